// Small DOM helpers the pages share.

// The element with this id; a page without it is a build mistake, so this throws.
export function el<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`missing #${id}`);
  return e as T;
}

// For pages that need a login: "Log in to <what>." with a link, in the page's alert.
export function showLoginNeeded(statusEl: HTMLElement, errorEl: HTMLElement, what: string): void {
  statusEl.textContent = '';
  const a = document.createElement('a');
  a.href = '/login';
  a.textContent = 'Log in';
  errorEl.replaceChildren(a, ` to ${what}.`);
  errorEl.hidden = false;
}
