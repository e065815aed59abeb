import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { Avatar } from '../../app/Avatar';
import { useServices } from '../../app/context';
import { Modal } from '../../app/Modal';
import { ApiError } from '../../api/http';
import { displayName } from '../../app/names';
import type { User } from '../../api/types';
import { SignInAgainError, type ProfileChange } from '../../state/session';
import styles from './Profile.module.scss';

type Field = 'display_name' | 'current_password' | 'password' | 'confirm';
type FieldErrors = Partial<Record<Field, string>>;

/** Focus order for the first invalid field: the order of the form. */
const ORDER: Field[] = ['display_name', 'current_password', 'password', 'confirm'];

export interface ProfileDialogProps {
  onClose: () => void;
  /** The saved account, so that views holding copies of it (own messages, member lists) follow. */
  onSaved?: (user: User) => void;
  /** Further settings shown below the form (notifications, read receipts). */
  children?: ComponentChildren;
}

/**
 * Change one's display name and/or password. A password change signs out
 * every other session (the server revokes all refresh tokens); the session
 * logs in again with the new password so this device stays signed in.
 */
export function ProfileDialog({ onClose, onSaved, children }: ProfileDialogProps) {
  const { session } = useServices();
  const me = session.user.value;
  const [values, setValues] = useState<Record<Field, string>>({
    display_name: me?.display_name ?? '',
    current_password: '',
    password: '',
    confirm: '',
  });
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  if (!me) return null;

  const set = (f: Field) => (e: Event) => {
    const value = (e.currentTarget as HTMLInputElement).value;
    setValues((v) => ({ ...v, [f]: value }));
    setDone(null);
    if (errors[f]) setErrors((er) => ({ ...er, [f]: undefined }));
  };

  const focusFirst = (found: FieldErrors) => {
    const first = ORDER.find((f) => found[f]);
    if (first) document.getElementById(`profile-${first}`)?.focus();
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    const changingPassword = values.current_password !== '' || values.password !== '' || values.confirm !== '';
    const found = validate(values, changingPassword);
    setErrors(found);
    setFormError(null);
    setDone(null);
    if (Object.keys(found).length > 0) {
      focusFirst(found);
      return;
    }
    const change: ProfileChange = {};
    if (values.display_name.trim() !== me.display_name) change.displayName = values.display_name;
    if (changingPassword) {
      change.password = values.password;
      change.currentPassword = values.current_password;
    }
    if (change.displayName === undefined && change.password === undefined) {
      setDone('Nothing to save: nothing was changed.');
      return;
    }
    setBusy(true);
    try {
      const saved = await session.updateProfile(change);
      onSaved?.(saved);
      setValues({ display_name: saved.display_name, current_password: '', password: '', confirm: '' });
      setDone(
        changingPassword
          ? 'Password changed. Your other devices and sessions were signed out; you are still signed in here.'
          : 'Display name saved.',
      );
    } catch (err) {
      if (err instanceof SignInAgainError) {
        // The change stands (the password and any new name were saved).
        const u = session.user.value;
        if (u) onSaved?.(u);
        setValues((v) => ({ ...v, current_password: '', password: '', confirm: '' }));
        setFormError(err.message);
        return;
      }
      const fe = explain(err);
      setErrors(fe.fields);
      setFormError(fe.form);
      focusFirst(fe.fields);
    } finally {
      setBusy(false);
    }
  };

  const fieldProps = (f: Field) => ({
    id: `profile-${f}`,
    name: f,
    value: values[f],
    onInput: set(f),
    'aria-invalid': errors[f] ? ('true' as const) : ('false' as const),
    'aria-describedby': errors[f] ? `profile-${f}-error` : f === 'password' ? 'profile-password-hint' : undefined,
  });
  const fieldError = (f: Field) =>
    errors[f] ? (
      <span class="field-error" id={`profile-${f}-error`}>
        {errors[f]}
      </span>
    ) : null;

  return (
    <Modal title="Profile" onClose={onClose}>
      <div class={styles.identity}>
        <Avatar name={displayName(me)} seed={me.username} />
        <span class={styles.handle}>@{me.username}</span>
      </div>
      <form onSubmit={submit} noValidate aria-label="Profile">
        {formError !== null && (
          <div class="form-error" role="alert">
            {formError}
          </div>
        )}
        <div class="field">
          <label for="profile-display_name">
            Display name <span class="field-hint">(empty: your username is shown)</span>
          </label>
          <input {...fieldProps('display_name')} autocomplete="name" maxLength={64} />
          {fieldError('display_name')}
        </div>
        <fieldset class={styles.fieldset}>
          <legend>Change password</legend>
          <p class={styles.note}>Leave these empty to keep your password. Changing it signs out your other devices.</p>
          {/* Lets password managers file the new password under the right account. */}
          <input type="text" name="username" autocomplete="username" value={me.username} readOnly hidden />
          <div class="field">
            <label for="profile-current_password">Current password</label>
            <input {...fieldProps('current_password')} type="password" autocomplete="current-password" />
            {fieldError('current_password')}
          </div>
          <div class="field">
            <label for="profile-password">New password</label>
            <input {...fieldProps('password')} type="password" autocomplete="new-password" maxLength={128} />
            {!errors.password && (
              <span class="field-hint" id="profile-password-hint">
                At least 8 characters.
              </span>
            )}
            {fieldError('password')}
          </div>
          <div class="field">
            <label for="profile-confirm">Confirm new password</label>
            <input {...fieldProps('confirm')} type="password" autocomplete="new-password" />
            {fieldError('confirm')}
          </div>
        </fieldset>
        <div role="status">{done !== null && <div class={styles.success}>{done}</div>}</div>
        <div class={styles.actions}>
          <button class="btn btn-secondary" type="button" onClick={onClose}>
            Close
          </button>
          <button class="btn" type="submit" disabled={busy}>
            {busy ? 'Saving…' : 'Save'}
          </button>
        </div>
      </form>
      {children}
    </Modal>
  );
}

function validate(v: Record<Field, string>, changingPassword: boolean): FieldErrors {
  const e: FieldErrors = {};
  if (v.display_name.trim().length > 64) e.display_name = 'Use at most 64 characters.';
  if (!changingPassword) return e;
  if (v.current_password === '') e.current_password = 'Enter your current password.';
  if (v.password.length < 8) e.password = 'Use at least 8 characters.';
  else if (v.password.length > 128) e.password = 'Use at most 128 characters.';
  if (v.confirm !== v.password) e.confirm = 'The passwords do not match.';
  return e;
}

function explain(err: unknown): { fields: FieldErrors; form: string | null } {
  if (!(err instanceof ApiError)) return { fields: {}, form: 'Something went wrong. Please try again.' };
  switch (err.code) {
    case 'rate_limited': {
      const wait = err.retryAfter !== null ? ` Try again in ${err.retryAfter} s.` : ' Please wait a moment.';
      return { fields: {}, form: 'Too many password attempts.' + wait };
    }
    case 'validation_failed': {
      const fields: FieldErrors = {};
      for (const [k, v] of Object.entries(err.details)) {
        if (k === 'display_name' || k === 'password' || k === 'current_password') fields[k] = capitalize(v);
      }
      if (Object.keys(fields).length > 0) return { fields, form: null };
      return { fields: {}, form: err.message };
    }
    default:
      if (err.status === 0) return { fields: {}, form: err.message };
      return { fields: {}, form: `Could not save: ${err.message}` };
  }
}

function capitalize(s: string): string {
  return s.length === 0 ? s : s[0]!.toUpperCase() + s.slice(1) + (/[.!?]$/.test(s) ? '' : '.');
}
