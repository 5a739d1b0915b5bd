// The login page /login: log in (the salt, Argon2id here, the proof, then the master key
// unwrapped here) or register (keys made here; the recovery key shown once), then back to the
// page that sent the user here.
import '../styles.css';
import { el } from '../lib/dom.js';
import { setupNav, takeReturn } from '../lib/nav.js';
import { LoginError, login, register } from '../lib/session.js';

const statusEl = el<HTMLParagraphElement>('status');
const errorEl = el<HTMLParagraphElement>('error');
const forms = el<HTMLDivElement>('forms');
const loginForm = el<HTMLFormElement>('login-form');
const registerForm = el<HTMLFormElement>('register-form');
const recovery = el<HTMLElement>('recovery');
const recoveryKey = el<HTMLInputElement>('recovery-key');

function showError(text: string): void {
  statusEl.textContent = '';
  errorEl.textContent = text;
  errorEl.hidden = false;
}

function busy(on: boolean): void {
  for (const b of document.querySelectorAll<HTMLButtonElement>('form button')) b.disabled = on;
}

loginForm.addEventListener('submit', (e) => {
  e.preventDefault();
  errorEl.hidden = true;
  const username = el<HTMLInputElement>('login-username').value.trim();
  const password = el<HTMLInputElement>('login-password').value;
  busy(true);
  statusEl.textContent = 'Deriving your keys and logging in…';
  void login(username, password).then(
    () => {
      statusEl.textContent = 'Logged in.';
      location.assign(takeReturn());
    },
    (err: unknown) => {
      busy(false);
      showError(err instanceof LoginError ? err.message : `Login failed: ${(err as Error).message}`);
      el<HTMLInputElement>('login-password').focus();
    },
  );
});

registerForm.addEventListener('submit', (e) => {
  e.preventDefault();
  errorEl.hidden = true;
  const username = el<HTMLInputElement>('register-username').value.trim();
  const password = el<HTMLInputElement>('register-password').value;
  if (password !== el<HTMLInputElement>('register-confirm').value) {
    showError('The two passwords differ; type them again.');
    el<HTMLInputElement>('register-confirm').focus();
    return;
  }
  busy(true);
  statusEl.textContent = 'Making your keys and registering…';
  void register(username, password).then(
    ({ recoveryText }) => {
      forms.hidden = true;
      recoveryKey.value = recoveryText;
      recovery.hidden = false;
      statusEl.textContent = `Registered and logged in as ${username}. Write down your recovery key.`;
      recoveryKey.focus();
      recoveryKey.select();
      void setupNavAgain();
    },
    (err: unknown) => {
      busy(false);
      showError(err instanceof LoginError ? err.message : `Registration failed: ${(err as Error).message}`);
    },
  );
});

async function setupNavAgain(): Promise<void> {
  await setupNav();
}

el<HTMLButtonElement>('recovery-copy').addEventListener('click', () => {
  void navigator.clipboard.writeText(recoveryKey.value).then(
    () => (statusEl.textContent = 'Recovery key copied.'),
    () => {
      recoveryKey.focus();
      recoveryKey.select();
      statusEl.textContent = 'Copying is not allowed here: the key is selected, press Ctrl+C (or ⌘C).';
    },
  );
});

el<HTMLButtonElement>('recovery-done').addEventListener('click', () => {
  // Gone from the page: it is shown once.
  recoveryKey.value = '';
  recovery.hidden = true;
  location.assign(takeReturn());
});

// Focus goes to the login form at once, not when the session check answers: by then the
// visitor may be typing in the register form, and moving focus (and the scroll with it) would
// take their typing, or their click, somewhere else.
el<HTMLInputElement>('login-username').focus();
void setupNav().then((session) => {
  if (session) statusEl.textContent = `You are logged in as ${session.username}. Logging in again replaces this session.`;
});

