import { useEffect, useRef, useState } from 'preact/hooks';
import { LogoIcon } from '../../app/Icons';
import { ApiError } from '../../api/http';
import styles from './AuthForm.module.scss';

export type AuthMode = 'login' | 'signup';

export interface AuthFormProps {
  mode: AuthMode;
  onLogin: (username: string, password: string) => Promise<void>;
  onSignup: (username: string, password: string, displayName: string) => Promise<void>;
  /** Link to the other mode (navigation is the caller's). */
  onSwitch: (mode: AuthMode) => void;
  now?: () => number;
}

type Field = 'username' | 'password' | 'confirm' | 'display_name';
type FieldErrors = Partial<Record<Field, string>>;

const USERNAME = /^[A-Za-z0-9_.-]{3,32}$/;

function validate(mode: AuthMode, v: Record<Field, string>): FieldErrors {
  const e: FieldErrors = {};
  if (mode === 'signup') {
    if (!USERNAME.test(v.username.trim())) e.username = 'Use 3–32 letters, digits, “_”, “.” or “-”.';
    if (v.password.length < 8) e.password = 'Use at least 8 characters.';
    else if (v.password.length > 128) e.password = 'Use at most 128 characters.';
    if (v.confirm !== v.password) e.confirm = 'The passwords do not match.';
    if (v.display_name.trim().length > 64) e.display_name = 'Use at most 64 characters.';
  } else {
    if (v.username.trim() === '') e.username = 'Enter your username.';
    if (v.password === '') e.password = 'Enter your password.';
  }
  return e;
}

/** Sign-up and log-in form with inline, accessible errors. */
export function AuthForm({ mode, onLogin, onSignup, onSwitch, now = Date.now }: AuthFormProps) {
  const [values, setValues] = useState<Record<Field, string>>({ username: '', password: '', confirm: '', display_name: '' });
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [blockedUntil, setBlockedUntil] = useState(0);
  const [, setTick] = useState(0);
  const firstInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    setErrors({});
    setFormError(null);
    firstInput.current?.focus();
  }, [mode]);

  // Count the Retry-After wait down so the button comes back by itself.
  useEffect(() => {
    if (blockedUntil <= now()) return;
    const id = setInterval(() => {
      setTick((n) => n + 1);
      if (blockedUntil <= now()) {
        clearInterval(id);
        setFormError(null);
      }
    }, 1000);
    return () => clearInterval(id);
  }, [blockedUntil, now]);

  const set = (f: Field) => (e: Event) => {
    const value = (e.currentTarget as HTMLInputElement).value;
    setValues((v) => ({ ...v, [f]: value }));
    if (errors[f]) setErrors((er) => ({ ...er, [f]: undefined }));
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    const found = validate(mode, values);
    setErrors(found);
    setFormError(null);
    if (Object.keys(found).length > 0) {
      const first = (['username', 'display_name', 'password', 'confirm'] as Field[]).find((f) => found[f]);
      if (first) document.getElementById(`auth-${first}`)?.focus();
      return;
    }
    setBusy(true);
    try {
      if (mode === 'login') await onLogin(values.username, values.password);
      else await onSignup(values.username, values.password, values.display_name);
    } catch (err) {
      const fe = explain(err, mode);
      setErrors(fe.fields);
      setFormError(fe.form);
      if (err instanceof ApiError && err.status === 429) {
        setBlockedUntil(now() + (err.retryAfter ?? 30) * 1000);
      }
    } finally {
      setBusy(false);
    }
  };

  const waitSecs = Math.max(0, Math.ceil((blockedUntil - now()) / 1000));
  const title = mode === 'login' ? 'Log in' : 'Create your account';

  const fieldProps = (f: Field) => ({
    id: `auth-${f}`,
    name: f,
    value: values[f],
    onInput: set(f),
    'aria-invalid': errors[f] ? ('true' as const) : ('false' as const),
    'aria-describedby': errors[f] ? `auth-${f}-error` : undefined,
  });
  const fieldError = (f: Field) =>
    errors[f] ? (
      <span class="field-error" id={`auth-${f}-error`}>
        {errors[f]}
      </span>
    ) : null;

  return (
    <main class={styles.page}>
      <div class={styles.card}>
        <div class={styles.brand} aria-hidden="true">
          <span class={styles.logo}>
            <LogoIcon size={28} />
          </span>{' '}
          Chat
        </div>
        <h1 class={styles.title}>{title}</h1>
        <form onSubmit={submit} noValidate aria-labelledby="auth-title" class={styles.form}>
          <span id="auth-title" class="visually-hidden">
            {title}
          </span>
          {formError !== null && (
            <div class="form-error" role="alert">
              {formError}
              {waitSecs > 0 && ` (${waitSecs} s)`}
            </div>
          )}
          <div class="field">
            <label for="auth-username">Username</label>
            <input
              ref={firstInput}
              {...fieldProps('username')}
              autocomplete="username"
              autocapitalize="none"
              spellcheck={false}
              required
            />
            {fieldError('username')}
          </div>
          {mode === 'signup' && (
            <div class="field">
              <label for="auth-display_name">
                Display name <span class="field-hint">(optional)</span>
              </label>
              <input {...fieldProps('display_name')} autocomplete="name" maxLength={64} />
              {fieldError('display_name')}
            </div>
          )}
          <div class="field">
            <label for="auth-password">Password</label>
            <input
              {...fieldProps('password')}
              type="password"
              autocomplete={mode === 'login' ? 'current-password' : 'new-password'}
              required
            />
            {mode === 'signup' && !errors.password && <span class="field-hint">At least 8 characters.</span>}
            {fieldError('password')}
          </div>
          {mode === 'signup' && (
            <div class="field">
              <label for="auth-confirm">Confirm password</label>
              <input {...fieldProps('confirm')} type="password" autocomplete="new-password" required />
              {fieldError('confirm')}
            </div>
          )}
          <button class={`btn ${styles.submit}`} type="submit" disabled={busy || waitSecs > 0}>
            {busy ? 'Please wait…' : mode === 'login' ? 'Log in' : 'Sign up'}
          </button>
        </form>
        <p class={styles.switch}>
          {mode === 'login' ? 'New here? ' : 'Already have an account? '}
          <a
            href={mode === 'login' ? '/signup' : '/login'}
            onClick={(e) => {
              e.preventDefault();
              onSwitch(mode === 'login' ? 'signup' : 'login');
            }}
          >
            {mode === 'login' ? 'Create an account' : 'Log in'}
          </a>
        </p>
      </div>
    </main>
  );
}

function explain(err: unknown, mode: AuthMode): { fields: FieldErrors; form: string | null } {
  if (!(err instanceof ApiError)) return { fields: {}, form: 'Something went wrong. Please try again.' };
  switch (err.code) {
    case 'username_taken':
      return { fields: { username: 'That username is already taken.' }, form: null };
    case 'invalid_credentials':
      return { fields: {}, form: 'Wrong username or password.' };
    case 'rate_limited':
      return { fields: {}, form: 'Too many attempts. Please wait before trying again.' };
    case 'validation_failed': {
      const fields: FieldErrors = {};
      for (const [k, v] of Object.entries(err.details)) {
        if (k === 'username' || k === 'password' || k === 'display_name') fields[k] = capitalize(v);
      }
      if (Object.keys(fields).length > 0) return { fields, form: null };
      return { fields: {}, form: err.message };
    }
    default:
      if (err.status === 0) return { fields: {}, form: err.message };
      return {
        fields: {},
        form: mode === 'login' ? `Could not log in: ${err.message}` : `Could not sign up: ${err.message}`,
      };
  }
}

function capitalize(s: string): string {
  return s.length === 0 ? s : s[0]!.toUpperCase() + s.slice(1) + (/[.!?]$/.test(s) ? '' : '.');
}
