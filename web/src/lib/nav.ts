// The header of every page: links to the pages and the login state (log in, or the username
// and a log-out button). Returns the session so the page can use it.
import { currentSession, logout, type Session } from './session.js';

function link(href: string, text: string): HTMLAnchorElement {
  const a = document.createElement('a');
  a.href = href;
  a.textContent = text;
  if (location.pathname === href) a.setAttribute('aria-current', 'page');
  return a;
}

export async function setupNav(): Promise<Session | null> {
  const nav = document.getElementById('nav');
  const session = await currentSession();
  if (!nav) return session;
  const items: HTMLElement[] = [link('/', 'Upload')];
  if (session) {
    items.push(link('/my-files', 'My files'), link('/wallet', 'Wallet'), link('/account', 'Account'));
    const who = document.createElement('span');
    who.className = 'nav-user';
    who.textContent = session.username;
    who.dataset.testid = 'username';
    const out = document.createElement('button');
    out.type = 'button';
    out.className = 'link-button';
    out.textContent = 'Log out';
    out.addEventListener('click', () => {
      void logout().then(() => location.assign('/'));
    });
    items.push(who, out);
  } else {
    items.push(link('/login', 'Log in or register'));
  }
  nav.replaceChildren(...items);
  return session;
}

// Where the login page returns to: the page that sent the user there (a link page with its
// key in the fragment, kept in this tab only, never in a URL the server sees).
const RETURN_KEY = 'satload.return';

export function rememberReturn(): void {
  sessionStorage.setItem(RETURN_KEY, location.href);
}

export function takeReturn(): string {
  const url = sessionStorage.getItem(RETURN_KEY);
  sessionStorage.removeItem(RETURN_KEY);
  if (url && url.startsWith(`${location.origin}/`)) return url;
  return '/my-files';
}
