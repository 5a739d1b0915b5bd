// The account settings page (/account): change the password (keys derived here, the same master
// key wrapped again: lib/session.ts) and API tokens for scripts (create, shown once; list;
// revoke), as `satload account passwd` and `satload account token create|ls|rm` do.
import '../styles.css';
import { ApiError, apiJson, apiMessage } from '../lib/api.js';
import { el, showLoginNeeded } from '../lib/dom.js';
import { formatDate } from '../lib/format.js';
import { setupNav } from '../lib/nav.js';
import { LoginError, changePassword } from '../lib/session.js';

const statusEl = el<HTMLParagraphElement>('status');
const errorEl = el<HTMLParagraphElement>('error');
const passwordForm = el<HTMLFormElement>('password-form');
const passwordMessage = el<HTMLParagraphElement>('password-message');
const passwordError = el<HTMLParagraphElement>('password-error');
const tokenForm = el<HTMLFormElement>('token-form');
const tokenName = el<HTMLInputElement>('token-name');
const tokenMessage = el<HTMLParagraphElement>('token-message');
const tokenError = el<HTMLParagraphElement>('token-error');
const newToken = el<HTMLElement>('new-token');
const newTokenValue = el<HTMLInputElement>('new-token-value');

// The server's rule for token names (accounts: 1 to 64 bytes, each 0x20..0x7e).
const MAX_TOKEN_NAME_CHARS = 64;
const TOKEN_NAME_RULE =
  'A token name is 1 to 64 printable ASCII characters: letters, digits, spaces and punctuation (no accents or emoji).';

interface ApiToken {
  id: number;
  name: string;
  created: number;
}

// One section's outcome: a status for success, an alert for a failure (never both).
function say(message: HTMLElement, error: HTMLElement, text: string, failed: boolean): void {
  message.textContent = failed ? '' : text;
  error.textContent = failed ? text : '';
  error.hidden = !failed;
}

// ---- Password ----

passwordForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const current = el<HTMLInputElement>('current-password');
  const next = el<HTMLInputElement>('new-password');
  const confirm = el<HTMLInputElement>('new-password-confirm');
  if (next.value !== confirm.value) {
    say(passwordMessage, passwordError, 'The two new passwords differ; type them again.', true);
    confirm.focus();
    return;
  }
  const submit = el<HTMLButtonElement>('password-submit');
  submit.disabled = true;
  say(passwordMessage, passwordError, 'Deriving your keys and changing the password…', false);
  void changePassword(current.value, next.value).then(
    () => {
      for (const input of [current, next, confirm]) input.value = '';
      say(
        passwordMessage,
        passwordError,
        'Your password is changed. Your files are as they were; your other sessions (other browsers, the command line) were logged out. API tokens still work.',
        false,
      );
    },
    (err: unknown) => {
      say(passwordMessage, passwordError, err instanceof LoginError ? err.message : `The password was not changed: ${(err as Error).message}`, true);
      current.focus();
      current.select();
    },
  ).finally(() => (submit.disabled = false));
});

// ---- API tokens ----

function tokenNameProblem(name: string): string | null {
  if (name.length === 0 || name.length > MAX_TOKEN_NAME_CHARS) return TOKEN_NAME_RULE;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return TOKEN_NAME_RULE;
  }
  return null;
}

function tokenFailure(e: unknown): string {
  if (e instanceof ApiError) {
    const p = e.problem;
    if (p.status === 400) return TOKEN_NAME_RULE;
    if (p.status === 409) return 'This account has as many API tokens as it may have (100): revoke one first.';
    if (p.status === 403) return 'Creating API tokens needs a logged-in session (an API token cannot make others).';
  }
  return apiMessage(e);
}

function revokeButton(t: ApiToken): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = 'Revoke';
  b.setAttribute('aria-label', `Revoke API token ${t.id} (${t.name})`);
  // Two presses: a revoked token cannot come back, and scripts using it stop at once.
  let armed = false;
  b.addEventListener('click', () => {
    if (!armed) {
      armed = true;
      b.textContent = 'Really revoke?';
      b.setAttribute('aria-label', `Really revoke API token ${t.id} (${t.name})? Scripts using it stop working`);
      return;
    }
    b.disabled = true;
    void apiJson(`/api/v1/account/tokens/${t.id}`, { method: 'DELETE' }).then(
      async () => {
        await loadTokens();
        say(tokenMessage, tokenError, `API token ${t.id} (${t.name}) is revoked.`, false);
        tokenName.focus();
      },
      async (err: unknown) => {
        const gone = err instanceof ApiError && err.problem.status === 404;
        if (gone) await loadTokens().catch(() => undefined);
        else b.disabled = false;
        say(tokenMessage, tokenError, gone ? `API token ${t.id} no longer exists (it was already revoked).` : apiMessage(err), true);
      },
    );
  });
  return b;
}

async function loadTokens(): Promise<void> {
  const { tokens } = await apiJson<{ tokens: ApiToken[] }>('/api/v1/account/tokens');
  el<HTMLTableSectionElement>('tokens').replaceChildren(
    ...tokens.map((t) => {
      const tr = document.createElement('tr');
      tr.dataset.tokenId = String(t.id);
      // The day in the table (narrow enough for a phone), the full time in its title.
      const created = document.createElement('time');
      created.dateTime = new Date(t.created * 1000).toISOString();
      created.textContent = new Date(t.created * 1000).toLocaleDateString();
      created.title = formatDate(t.created);
      const cells = [String(t.id), created, t.name, revokeButton(t)].map((content) => {
        const td = document.createElement('td');
        td.append(content);
        return td;
      });
      // Only the name wraps: an id, a date or a button broken mid-word would not read.
      for (const td of [cells[0], cells[1], cells[3]]) if (td) td.style.whiteSpace = 'nowrap';
      tr.append(...cells);
      return tr;
    }),
  );
  el<HTMLElement>('tokens-empty').hidden = tokens.length > 0;
}

tokenForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const name = tokenName.value;
  const problem = tokenNameProblem(name);
  if (problem) {
    say(tokenMessage, tokenError, problem, true);
    tokenName.focus();
    return;
  }
  const submit = el<HTMLButtonElement>('token-submit');
  submit.disabled = true;
  void apiJson<{ id: number; name: string; token: string }>('/api/v1/account/tokens', { method: 'POST', json: { name } })
    .then(
      async (created) => {
        tokenName.value = '';
        newTokenValue.value = created.token;
        newToken.hidden = false;
        say(tokenMessage, tokenError, `API token ${created.id} (${created.name}) is created. Copy it now: it is shown only this once.`, false);
        newTokenValue.focus();
        newTokenValue.select();
        await loadTokens();
      },
      (err: unknown) => {
        say(tokenMessage, tokenError, tokenFailure(err), true);
        tokenName.focus();
      },
    )
    .finally(() => (submit.disabled = false));
});

el<HTMLButtonElement>('new-token-copy').addEventListener('click', () => {
  void navigator.clipboard.writeText(newTokenValue.value).then(
    () => say(tokenMessage, tokenError, 'The token is copied.', false),
    () => {
      newTokenValue.focus();
      newTokenValue.select();
      say(tokenMessage, tokenError, 'Copying is not allowed here: the token is selected, press Ctrl+C (or ⌘C).', false);
    },
  );
});

el<HTMLButtonElement>('new-token-done').addEventListener('click', () => {
  // Shown once: gone from the page.
  newTokenValue.value = '';
  newToken.hidden = true;
  say(tokenMessage, tokenError, '', false);
  tokenName.focus();
});

async function main(): Promise<void> {
  const session = await setupNav();
  if (!session) {
    showLoginNeeded(statusEl, errorEl, 'change your password or manage API tokens');
    return;
  }
  el<HTMLInputElement>('password-username').value = session.username;
  statusEl.textContent = `Logged in as ${session.username}.`;
  el<HTMLElement>('settings').hidden = false;
  try {
    await loadTokens();
  } catch (e) {
    say(tokenMessage, tokenError, `Your API tokens could not be listed: ${apiMessage(e)}`, true);
  }
}

void main();
