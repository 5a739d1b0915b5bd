// The login page /login: log in (the salt, Argon2id here, the proof, then the master key
// unwrapped here), register (keys made here; the recovery key shown once), or, having forgotten
// the password, set a new one with the recovery key and log in; then back to the page that sent
// the user here.
import '../styles.css';
import { el } from '../lib/dom.js';
import { setupNav, takeReturn } from '../lib/nav.js';
import { LoginError, NOT_A_RECOVERY_KEY, login, recoverAccount, recoveryKeyFromText, register } from '../lib/session.js';

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

// "Forgot your password?": a recovery form (username, recovery key, new password twice), closed
// until opened, built here below the login and register forms.
function field(id: string, text: string, attrs: Record<string, string>): [HTMLLabelElement, HTMLInputElement] {
  const label = document.createElement('label');
  label.htmlFor = id;
  label.textContent = text;
  const input = document.createElement('input');
  input.id = id;
  input.required = true;
  for (const [k, v] of Object.entries(attrs)) input.setAttribute(k, v);
  return [label, input];
}

function buildResetForm(): HTMLFormElement {
  const details = document.createElement('details');
  details.id = 'reset';
  details.className = 'card';
  const summary = document.createElement('summary');
  summary.id = 'reset-title';
  summary.textContent = 'Forgot your password? Set a new one with your recovery key';
  const form = document.createElement('form');
  form.id = 'reset-form';
  form.setAttribute('aria-labelledby', 'reset-title');
  const note = document.createElement('p');
  note.className = 'hint';
  note.textContent =
    'The recovery key was shown once when you registered (56 characters in groups of 8). Your files stay readable; every other session and every API token of the account is revoked.';
  const submit = document.createElement('button');
  submit.id = 'reset-submit';
  submit.type = 'submit';
  submit.textContent = 'Set the new password and log in';
  form.append(
    note,
    ...field('reset-username', 'Username', { name: 'username', autocomplete: 'username', minlength: '3', maxlength: '32' }),
    ...field('reset-key', 'Recovery key', { name: 'recovery-key', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'characters' }),
    ...field('reset-password', 'New password', { name: 'new-password', type: 'password', autocomplete: 'new-password', minlength: '8' }),
    ...field('reset-confirm', 'New password again', { name: 'new-password-confirm', type: 'password', autocomplete: 'new-password', minlength: '8' }),
    submit,
  );
  details.append(summary, form);
  // Inside the forms (hidden with them once a registration shows its key), on a row of its own.
  details.style.gridColumn = '1 / -1';
  forms.append(details);
  return form;
}

const resetForm = buildResetForm();
resetForm.addEventListener('submit', (e) => {
  e.preventDefault();
  errorEl.hidden = true;
  const username = el<HTMLInputElement>('reset-username').value.trim();
  const key = el<HTMLInputElement>('reset-key');
  const password = el<HTMLInputElement>('reset-password').value;
  if (password !== el<HTMLInputElement>('reset-confirm').value) {
    showError('The two new passwords differ; type them again.');
    el<HTMLInputElement>('reset-confirm').focus();
    return;
  }
  busy(true);
  void (async () => {
    // A typo is caught by the key's checksum before any request (and before Argon2id).
    if (!(await recoveryKeyFromText(key.value))) throw new LoginError(NOT_A_RECOVERY_KEY);
    statusEl.textContent = 'Checking your recovery key and setting the new password…';
    return recoverAccount(username, key.value, password);
  })().then(
    () => {
      key.value = '';
      statusEl.textContent = 'Your new password is set and you are logged in.';
      location.assign(takeReturn());
    },
    (err: unknown) => {
      busy(false);
      showError(err instanceof LoginError ? err.message : `Recovery failed: ${(err as Error).message}`);
      key.focus();
    },
  );
});

// Focus goes to the login form at once, not when the session check answers: by then the
// visitor may be typing in the register form, and moving focus (and the scroll with it) would
// take their typing, or their click, somewhere else.
el<HTMLInputElement>('login-username').focus();
void setupNav().then((session) => {
  if (session) statusEl.textContent = `You are logged in as ${session.username}. Logging in again replaces this session.`;
});

