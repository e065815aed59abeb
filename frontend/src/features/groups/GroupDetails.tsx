import { useEffect, useState } from 'preact/hooks';
import { Avatar, GroupAvatar } from '../../app/Avatar';
import { useChat, useServices } from '../../app/context';
import { Modal } from '../../app/Modal';
import { displayName, groupTitle, userLabel } from '../../app/names';
import type { Member, MyGroup, User, Visibility } from '../../api/types';
import { messageOf } from '../../state/chat';
import styles from './Groups.module.scss';

/** Who may do what; mirrors the server's rules so nobody sees a button that can only fail. */
export function permissions(g: Pick<MyGroup, 'kind' | 'role'>) {
  const isGroup = g.kind === 'group';
  const manager = isGroup && (g.role === 'owner' || g.role === 'admin');
  return {
    edit: manager,
    addMembers: manager,
    removeMember: (m: Member, meId: number) =>
      manager && m.id !== meId && m.role !== 'owner' && (g.role === 'owner' || m.role === 'member'),
    setRole: (m: Member, meId: number) => isGroup && g.role === 'owner' && m.id !== meId && m.role !== 'owner',
    leave: isGroup && g.role !== 'owner',
    delete: isGroup && g.role === 'owner',
  };
}

export function GroupDetails({ group, onClose }: { group: MyGroup; onClose: () => void }) {
  const chat = useChat();
  const members = chat.members.of(group.id);
  const can = permissions(group);
  const [error, setError] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<'leave' | 'delete' | null>(null);

  useEffect(() => {
    if (group.kind === 'group') chat.members.load(group.id).catch((err: unknown) => setError(messageOf(err)));
  }, [chat, group.id, group.kind]);

  const act = async (fn: () => Promise<void>) => {
    setError(null);
    try {
      await fn();
    } catch (err) {
      setError(messageOf(err));
    }
  };

  const title = groupTitle(group);
  const roleLabel = { owner: 'Owner', admin: 'Admin', member: 'Member' };

  return (
    <Modal title={group.kind === 'direct' ? 'Conversation details' : 'Group details'} onClose={onClose} wide>
      {error !== null && (
        <div class="form-error" role="alert">
          {error}
        </div>
      )}
      <div class={styles.summary}>
        <GroupAvatar group={group} size="lg" />
        <div>
          {/* A direct peer's @username is on the next line. */}
          <h3 class={styles.name}>{group.kind === 'direct' && group.peer ? displayName(group.peer) : title}</h3>
          {group.kind === 'direct' && group.peer ? (
            <p class={styles.muted}>
              @{group.peer.username} · {(chat.presence.isOnline(group.peer.id) ?? group.peer.online) ? 'online' : 'offline'}
            </p>
          ) : (
            <p class={styles.muted}>
              {group.visibility === 'private' ? 'Private' : 'Public'} group · {group.member_count}{' '}
              {group.member_count === 1 ? 'member' : 'members'} · you are {roleLabel[group.role].toLowerCase()}
            </p>
          )}
          {group.description && <p class={styles.description}>{group.description}</p>}
        </div>
      </div>

      {can.edit && <EditGroup group={group} onError={setError} />}

      {group.kind === 'group' && (
        <section aria-labelledby="members-title" class={styles.section}>
          <h3 id="members-title" class={styles.sectionTitle}>
            Members
          </h3>
          {can.addMembers && <AddMember group={group} members={members ?? []} onError={setError} />}
          {!members ? (
            <p class={styles.muted}>Loading members…</p>
          ) : (
            <ul class={styles.members}>
              {members.map((m) => (
                <li key={m.id} class={styles.member}>
                  <Avatar name={displayName(m)} seed={m.username} size="sm" online={chat.presence.isOnline(m.id) ?? m.online} />
                  <span class={styles.memberText}>
                    <span class={styles.memberName}>
                      {displayName(m)}
                      {m.id === chat.me.id && ' (you)'}
                    </span>
                    <span class={styles.muted}>@{m.username}</span>
                  </span>
                  {m.role !== 'member' && <span class={`${styles.role} ${styles[m.role]}`}>{roleLabel[m.role]}</span>}
                  {can.setRole(m, chat.me.id) && (
                    <button
                      type="button"
                      class="btn btn-small btn-secondary"
                      onClick={() =>
                        void act(() => chat.members.setRole(group.id, m.id, m.role === 'admin' ? 'member' : 'admin'))
                      }
                    >
                      {m.role === 'admin' ? 'Remove admin' : 'Make admin'}
                      <span class="visually-hidden"> {userLabel(m)}</span>
                    </button>
                  )}
                  {can.removeMember(m, chat.me.id) && (
                    <button
                      type="button"
                      class="btn btn-small btn-secondary"
                      onClick={() => void act(() => chat.members.remove(group.id, m.id))}
                    >
                      Remove<span class="visually-hidden"> {userLabel(m)}</span>
                    </button>
                  )}
                </li>
              ))}
            </ul>
          )}
        </section>
      )}

      {(can.leave || can.delete) && (
        <section class={styles.danger} aria-label="Leave or delete">
          {confirm === null ? (
            <>
              {can.leave && (
                <button type="button" class="btn btn-secondary" onClick={() => setConfirm('leave')}>
                  Leave group
                </button>
              )}
              {can.delete && (
                <button type="button" class="btn btn-danger" onClick={() => setConfirm('delete')}>
                  Delete group
                </button>
              )}
            </>
          ) : (
            <div role="group" aria-label="Confirm" class={styles.confirm}>
              <span>
                {confirm === 'leave'
                  ? `Leave “${title}”? You will need to be added or join again.`
                  : `Delete “${title}” and all its messages for everyone?`}
              </span>
              <button type="button" class="btn btn-secondary" onClick={() => setConfirm(null)}>
                Cancel
              </button>
              <button
                type="button"
                class="btn btn-danger"
                onClick={() =>
                  void act(async () => {
                    if (confirm === 'leave') await chat.leave(group.id);
                    else await chat.deleteGroup(group.id);
                    onClose();
                  })
                }
              >
                {confirm === 'leave' ? 'Leave' : 'Delete'}
              </button>
            </div>
          )}
        </section>
      )}
    </Modal>
  );
}

function EditGroup({ group, onError }: { group: MyGroup; onError: (e: string | null) => void }) {
  const chat = useChat();
  const [name, setName] = useState(group.name ?? '');
  const [description, setDescription] = useState(group.description);
  const [visibility, setVisibility] = useState<Visibility>(group.visibility);
  const [saved, setSaved] = useState(false);
  const dirty = name.trim() !== (group.name ?? '') || description.trim() !== group.description || visibility !== group.visibility;

  const submit = async (e: Event) => {
    e.preventDefault();
    onError(null);
    if (name.trim() === '') {
      onError('The group needs a name.');
      return;
    }
    try {
      await chat.updateGroup(group.id, { name: name.trim(), description: description.trim(), visibility });
      setSaved(true);
    } catch (err) {
      onError(messageOf(err));
    }
  };

  return (
    <form class={styles.section} onSubmit={submit} aria-labelledby="edit-title">
      <h3 id="edit-title" class={styles.sectionTitle}>
        Settings
      </h3>
      <div class="field">
        <label for="edit-name">Name</label>
        <input
          id="edit-name"
          value={name}
          maxLength={64}
          onInput={(e) => {
            setName(e.currentTarget.value);
            setSaved(false);
          }}
        />
      </div>
      <div class="field">
        <label for="edit-description">Description</label>
        <textarea
          id="edit-description"
          rows={2}
          value={description}
          onInput={(e) => {
            setDescription(e.currentTarget.value);
            setSaved(false);
          }}
        />
      </div>
      <div class="field">
        <label for="edit-visibility">Visibility</label>
        <select
          id="edit-visibility"
          value={visibility}
          onChange={(e) => {
            setVisibility(e.currentTarget.value as Visibility);
            setSaved(false);
          }}
        >
          <option value="public">Public — anyone can find and join</option>
          <option value="private">Private — only people you add</option>
        </select>
      </div>
      <div class={styles.actions}>
        {saved && (
          <span role="status" class={styles.muted}>
            Saved.
          </span>
        )}
        <button class="btn" type="submit" disabled={!dirty}>
          Save changes
        </button>
      </div>
    </form>
  );
}

function AddMember({ group, members, onError }: { group: MyGroup; members: readonly Member[]; onError: (e: string | null) => void }) {
  const chat = useChat();
  const { session } = useServices();
  const [q, setQ] = useState('');
  const [found, setFound] = useState<User[]>([]);

  useEffect(() => {
    const term = q.trim();
    if (term === '') {
      setFound([]);
      return;
    }
    const ctl = new AbortController();
    const id = setTimeout(() => {
      session.api.searchUsers(term, 8, ctl.signal).then(
        (r) => setFound(r.items),
        () => undefined,
      );
    }, 250);
    return () => {
      clearTimeout(id);
      ctl.abort();
    };
  }, [q, session]);

  const inGroup = new Set(members.map((m) => m.id));
  const candidates = found.filter((u) => !inGroup.has(u.id));

  return (
    <div class={styles.addMember}>
      <label for="add-member" class="visually-hidden">
        Add a member by name
      </label>
      <input
        id="add-member"
        type="search"
        placeholder="Add people by name…"
        value={q}
        autocomplete="off"
        onInput={(e) => setQ(e.currentTarget.value)}
      />
      {candidates.length > 0 && (
        <ul class={styles.members} aria-label="People to add">
          {candidates.map((u) => (
            <li key={u.id} class={styles.member}>
              <Avatar name={displayName(u)} seed={u.username} size="sm" />
              <span class={styles.memberText}>
                <span class={styles.memberName}>{displayName(u)}</span>
                <span class={styles.muted}>@{u.username}</span>
              </span>
              <button
                type="button"
                class="btn btn-small"
                onClick={() => {
                  onError(null);
                  chat.members.add(group.id, u.id).then(
                    () => setQ(''),
                    (err: unknown) => onError(messageOf(err)),
                  );
                }}
              >
                Add<span class="visually-hidden"> {userLabel(u)}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
