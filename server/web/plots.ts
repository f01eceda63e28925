/**
 * The owner's plot list on the home page: rename (the title), delete (asked twice) and copy the
 * link of each plot, through the plot API with the login session.
 */
import { copyLink } from './editor.js';

async function send(method: string, id: string, body?: unknown): Promise<void> {
  const res = await fetch(`/api/v1/plots/${id}`, { method, credentials: 'same-origin', headers: body ? { 'content-type': 'application/json' } : {}, ...(body !== undefined && { body: JSON.stringify(body) }) });
  if (!res.ok) throw new Error(((await res.json().catch(() => ({}))) as { error?: string }).error ?? `the server answered ${res.status}`);
}

function setUp(item: HTMLLIElement): void {
  const id = item.dataset.plotId as string;
  const link = item.querySelector('a') as HTMLAnchorElement;
  const status = item.querySelector('.status') as HTMLElement;
  const fail = (err: unknown): void => void (status.textContent = (err as Error).message);
  const button = (action: string): HTMLButtonElement => item.querySelector(`[data-action="${action}"]`) as HTMLButtonElement;

  button('rename').addEventListener('click', () => {
    const input = document.createElement('input');
    input.value = link.textContent ?? '';
    input.setAttribute('aria-label', 'New title');
    const save = document.createElement('button');
    save.type = 'submit';
    save.textContent = 'Save title';
    const form = document.createElement('form');
    form.className = 'rename';
    form.append(input, save);
    link.hidden = true;
    link.after(form);
    input.focus();
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      send('PATCH', id, { title: input.value })
        .then(() => {
          link.textContent = input.value;
          form.remove();
          link.hidden = false;
        })
        .catch(fail);
    });
  });

  const del = button('delete');
  del.addEventListener('click', () => {
    if (del.dataset.armed !== '1') {
      del.dataset.armed = '1';
      del.textContent = 'Really delete?';
      return;
    }
    send('DELETE', id).then(() => item.remove(), fail);
  });

  button('copy').addEventListener('click', async () => {
    status.textContent = (await copyLink(item.dataset.link as string)) ? 'Link copied.' : `Copy this link: ${item.dataset.link}`;
  });
}

for (const item of Array.from(document.querySelectorAll<HTMLLIElement>('li[data-plot-id]'))) setUp(item);
