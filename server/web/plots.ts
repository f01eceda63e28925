/**
 * The owner's plot list on the home page: rename (the title), delete (asked twice) and copy the
 * link of each plot, through the plot API with the login session.
 */
import { copyLink } from './editor.js';
import { plotApi } from './plot-api.js';


function setUp(item: HTMLLIElement): void {
  const id = item.dataset.plotId as string;
  const link = item.querySelector('a') as HTMLAnchorElement;
  const status = item.querySelector('.status') as HTMLElement;
  /** Does `then` once the server took the change, else shows why not. */
  const send = async (method: string, body: unknown, then: () => void): Promise<void> => {
    const answer = await plotApi(method, `/api/v1/plots/${id}`, body);
    if (answer.ok) then();
    else status.textContent = answer.error;
  };
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
      void send('PATCH', { title: input.value }, () => {
        link.textContent = input.value;
        form.remove();
        link.hidden = false;
      });
    });
  });

  const del = button('delete');
  del.addEventListener('click', () => {
    if (del.dataset.armed !== '1') {
      del.dataset.armed = '1';
      del.textContent = 'Really delete?';
      return;
    }
    void send('DELETE', undefined, () => item.remove());
  });

  button('copy').addEventListener('click', async () => {
    status.textContent = (await copyLink(item.dataset.link as string)) ? 'Link copied.' : `Copy this link: ${item.dataset.link}`;
  });
}

for (const item of Array.from(document.querySelectorAll<HTMLLIElement>('li[data-plot-id]'))) setUp(item);
