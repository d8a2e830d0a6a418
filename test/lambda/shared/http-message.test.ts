import { PlainHeaders, PlainRequest, PlainResponse } from '../../../lambda/shared/http-message.js';

describe('PlainHeaders', () => {
  it('looks names up case-insensitively, as web Headers do', () => {
    const headers = new PlainHeaders({ 'Content-Type': 'application/json' });
    expect(headers.get('content-type')).toBe('application/json');
    expect(headers.get('CONTENT-TYPE')).toBe('application/json');
    expect(headers.has('x-missing')).toBe(false);
    expect(headers.get('x-missing')).toBeNull();
  });

  it('joins repeated values with ", " and keeps Set-Cookie values apart', () => {
    const headers = new PlainHeaders();
    headers.append('Vary', 'Origin');
    headers.append('vary', 'Accept');
    headers.append('Set-Cookie', 'a=1');
    headers.append('Set-Cookie', 'b=2');
    const seen: Record<string, string> = {};
    headers.forEach((value, name) => (seen[name] = value));
    expect(seen).toEqual({ vary: 'Origin, Accept' });
    expect(headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect([...headers]).toEqual([
      ['vary', 'Origin, Accept'],
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
    ]);
  });

  it('agrees with web Headers on what it is given', () => {
    const init: [string, string][] = [
      ['Accept', 'application/json'],
      ['accept', 'text/event-stream'],
      ['X-Id', '7'],
    ];
    const plain = new PlainHeaders(init);
    const web = new Headers(init);
    for (const name of ['accept', 'x-id', 'missing']) expect(plain.get(name)).toBe(web.get(name));
  });

  it('replaces with set and removes with delete', () => {
    const headers = new PlainHeaders({ a: '1' });
    headers.set('A', '2');
    expect(headers.get('a')).toBe('2');
    headers.delete('a');
    expect(headers.has('a')).toBe(false);
  });
});

describe('PlainRequest', () => {
  it('reads its body as text, bytes and JSON, and upper-cases the method', async () => {
    const request = new PlainRequest('https://api.example/mcp', {
      method: 'post',
      body: Buffer.from('{"x":"é"}'),
    });
    expect(request.method).toBe('POST');
    expect(await request.text()).toBe('{"x":"é"}');
    expect(await request.json()).toEqual({ x: 'é' });
    expect((await request.arrayBuffer()).byteLength).toBe(10);
  });
});

describe('PlainResponse', () => {
  it('reads like a web Response', async () => {
    const response = new PlainResponse('{"ok":true}', {
      status: 201,
      headers: { 'Content-Type': 'application/json' },
    });
    expect(response.status).toBe(201);
    expect(response.ok).toBe(true);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ ok: true });
  });

  it('has no content type and an empty body when it has no body', async () => {
    const response = new PlainResponse(null, { status: 204 });
    expect(response.headers.get('content-type')).toBeNull();
    expect(await response.text()).toBe('');
  });
});
