import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { it } from 'vitest';
import { Client, formWith, makePng, startTestServer, CLASSIFY_SCHEMA } from './harness.js';
it('x', async () => {
  const s = await startTestServer('sqlite', { CALIPER_MAX_UPLOAD_MB: '0.001' });
  const c = await Client.login(s.url, s.admin.email, s.admin.password);
  const p = await c.post('/api/projects', { name: 'L', labelSchema: CLASSIFY_SCHEMA });
  const t = await c.post(`/api/projects/${p.body.id}/tasks`, { name: 'T' });
  const url = `/api/tasks/${t.body.id}/assets`;
  const big1 = await c.post(url, formWith([{ name: 'big.png', data: randomBytes(5 * 1024), type: 'image/png' }]));
  console.log('single', big1.status, JSON.stringify(big1.body));
  const mixed = await c.post(url, formWith([{ name: 'tiny.png', data: await makePng(2, 2, 8, 5), type: 'image/png' }, { name: 'big.png', data: randomBytes(5 * 1024), type: 'image/png' }, { name: 'tiny2.png', data: await makePng(2, 2, 8, 6), type: 'image/png' }]));
  console.log('mixed', mixed.status, JSON.stringify(mixed.body));
  console.log('list', JSON.stringify((await c.get(url)).body.items.map((a: any) => a.name)));
  console.log('tmp', await readdir(s.dataDir + '/tmp'));
  console.log('health', (await c.get('/api/health')).status);
  await s.close();
});
