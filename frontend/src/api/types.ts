// REST wire types of docs/API.md, named. They are generated from the OpenAPI
// document (schema.d.ts, `npm run api-types`); `npm run lint` fails when that
// file no longer matches backend/httpapi/openapi.json. Never write a REST
// type by hand here: change the OpenAPI document and regenerate.
import type { components } from './schema';

type Schemas = components['schemas'];

export type User = Schemas['User'];
export type Role = Schemas['Role'];
export type Visibility = Schemas['Visibility'];
export type Member = Schemas['Member'];
export type Group = Schemas['Group'];
export type MyGroup = Schemas['MyGroup'];
export type Message = Schemas['Message'];
export type AuthResult = Schemas['AuthResult'];
export type UserPage = Schemas['UserPage'];
export type GroupPage = Schemas['GroupPage'];
export type MyGroupList = Schemas['MyGroupList'];
export type MemberList = Schemas['MemberList'];
export type MessagePage = Schemas['MessagePage'];
export type ErrorBody = Schemas['Error'];
export type RegisterRequest = Schemas['RegisterRequest'];
export type LoginRequest = Schemas['LoginRequest'];
export type UpdateMeRequest = Schemas['UpdateMeRequest'];
export type CreateGroupRequest = Schemas['CreateGroupRequest'];
export type UpdateGroupRequest = Schemas['UpdateGroupRequest'];
export type SetRoleRequest = Schemas['SetRoleRequest'];
export type SendRequest = Schemas['SendRequest'];
export type ReplyPreview = Schemas['ReplyPreview'];
export type Reaction = Schemas['Reaction'];
export type Attachment = Schemas['Attachment'];
export type Edit = Schemas['Edit'];
export type EditList = Schemas['EditList'];
export type ReadReceipt = Schemas['ReadReceipt'];
export type ReadReceiptList = Schemas['ReadReceiptList'];
export type MuteRequest = Schemas['MuteRequest'];
export type SearchMessagePage = Schemas['SearchMessagePage'];
