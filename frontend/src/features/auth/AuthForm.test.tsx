import { fireEvent, render, screen, waitFor } from '@testing-library/preact';
import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../../api/http';
import { AuthForm } from './AuthForm';

function fill(label: RegExp, value: string) {
  fireEvent.input(screen.getByLabelText(label), { target: { value } });
}

describe('AuthForm', () => {
  it('logs in with the typed credentials', async () => {
    const onLogin = vi.fn(async () => undefined);
    render(<AuthForm mode="login" onLogin={onLogin} onSignup={vi.fn()} onSwitch={vi.fn()} />);
    fill(/^username/i, 'alice');
    fill(/^password/i, 'correct horse');
    fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
    await waitFor(() => expect(onLogin).toHaveBeenCalledWith('alice', 'correct horse'));
  });

  it('says "wrong username or password" on invalid_credentials', async () => {
    const onLogin = vi.fn(async () => {
      throw new ApiError(401, 'invalid_credentials', 'invalid username or password');
    });
    render(<AuthForm mode="login" onLogin={onLogin} onSignup={vi.fn()} onSwitch={vi.fn()} />);
    fill(/^username/i, 'alice');
    fill(/^password/i, 'nope-nope');
    fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findByRole('alert')).toHaveProperty('textContent', 'Wrong username or password.');
  });

  it('shows the rate limit with its wait and disables the button', async () => {
    const now = 1_000_000;
    const onLogin = vi.fn(async () => {
      throw new ApiError(429, 'rate_limited', 'too many', {}, 42);
    });
    render(<AuthForm mode="login" onLogin={onLogin} onSignup={vi.fn()} onSwitch={vi.fn()} now={() => now} />);
    fill(/^username/i, 'alice');
    fill(/^password/i, 'whatever1');
    fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Too many attempts');
    expect(alert.textContent).toContain('42 s');
    expect((screen.getByRole('button', { name: 'Log in' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('validates sign-up fields inline before calling the server', async () => {
    const onSignup = vi.fn(async () => undefined);
    render(<AuthForm mode="signup" onLogin={vi.fn()} onSignup={onSignup} onSwitch={vi.fn()} />);
    fill(/^username/i, 'a!');
    fill(/^password/i, 'short');
    fill(/^confirm password/i, 'other');
    fireEvent.click(screen.getByRole('button', { name: 'Sign up' }));
    expect(await screen.findByText(/3–32 letters/)).toBeTruthy();
    expect(screen.getByText('Use at least 8 characters.')).toBeTruthy();
    expect(screen.getByText('The passwords do not match.')).toBeTruthy();
    expect(screen.getByLabelText(/^username/i).getAttribute('aria-invalid')).toBe('true');
    expect(onSignup).not.toHaveBeenCalled();
  });

  it('puts "username taken" next to the username field', async () => {
    const onSignup = vi.fn(async () => {
      throw new ApiError(409, 'username_taken', 'username taken', { username: 'already taken' });
    });
    render(<AuthForm mode="signup" onLogin={vi.fn()} onSignup={onSignup} onSwitch={vi.fn()} />);
    fill(/^username/i, 'alice');
    fill(/^password/i, 'long enough');
    fill(/^confirm password/i, 'long enough');
    fireEvent.click(screen.getByRole('button', { name: 'Sign up' }));
    const err = await screen.findByText('That username is already taken.');
    expect(err.id).toBe('auth-username-error');
    expect(screen.getByLabelText(/^username/i).getAttribute('aria-describedby')).toBe('auth-username-error');
  });

  it('maps validation details from the server to fields (weak password)', async () => {
    const onSignup = vi.fn(async () => {
      throw new ApiError(400, 'validation_failed', 'invalid', { password: 'too weak' });
    });
    render(<AuthForm mode="signup" onLogin={vi.fn()} onSignup={onSignup} onSwitch={vi.fn()} />);
    fill(/^username/i, 'alice');
    fill(/^password/i, 'password');
    fill(/^confirm password/i, 'password');
    fireEvent.click(screen.getByRole('button', { name: 'Sign up' }));
    expect(await screen.findByText('Too weak.')).toBeTruthy();
  });
});
