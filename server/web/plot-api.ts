/**
 * The plot API from the page, with the login session (the editor and the plot list); the server
 * checks such a change comes from its own page (Origin). The answer, or the server's reason: a
 * result, not a throw, since all the page does with a refusal is show it.
 */
export type PlotApiResult = { readonly ok: true; readonly body: Record<string, unknown> } | { readonly ok: false; readonly status: number; readonly error: string };

export async function plotApi(method: string, path: string, body?: unknown): Promise<PlotApiResult> {
  let res: Response;
  try {
    res = await fetch(path, { method, credentials: 'same-origin', headers: body === undefined ? {} : { 'content-type': 'application/json' }, ...(body !== undefined && { body: JSON.stringify(body) }) });
  } catch {
    return { ok: false, status: 0, error: 'the server cannot be reached' };
  }
  const answer = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (res.ok) return { ok: true, body: answer };
  return { ok: false, status: res.status, error: typeof answer.error === 'string' ? answer.error : `the server answered ${res.status}` };
}
