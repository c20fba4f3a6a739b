// The admin console end to end: a real query-api, sagas service and schema registry over a
// seeded database (see ./run and ./seed.mjs), driven in headless Chromium.
import { expect, test } from '@playwright/test';

import { AGENT, PARKED_OUTBOX_ID, SAGA_COMPLETED, SAGA_OTHER_TENANT, SAGA_PARKED, SAGA_RUNNING } from './fixtures.mjs';

const { ADMIN_TOKEN, VIEWER_TOKEN, OPERATOR_TOKEN, BROKERS } = process.env;

test.describe.configure({ mode: 'serial' });

async function signIn(page, token = ADMIN_TOKEN) {
  await page.goto('/admin');
  await expect(page.locator('#sign-in')).toBeVisible();
  await page.locator('#token-input').fill(token);
  await page.getByRole('button', { name: 'Use token' }).click();
}

test('the data endpoints need an admin token; the page itself is public', async ({ request }) => {
  const page = await request.get('/admin');
  expect(page.status()).toBe(200);
  expect(page.headers()['content-type']).toContain('text/html');
  expect(page.headers()['content-security-policy']).toContain("default-src 'none'");
  // Self-contained: nothing is loaded from anywhere else (the SVG namespace is a name, not a load).
  expect(await page.text()).not.toMatch(/(src|href|action)\s*=\s*["']?(https?:)?\/\/|@import|url\(\s*["']?https?:/i);

  const anonymous = await request.get('/v1/admin/projections');
  expect(anonymous.status()).toBe(401);
  expect(anonymous.headers()['content-type']).toBe('application/problem+json');
  for (const token of [VIEWER_TOKEN, OPERATOR_TOKEN]) {
    const answer = await request.get('/v1/admin/projections', { headers: { authorization: `Bearer ${token}` } });
    expect(answer.status()).toBe(403);
  }
  const completed = await request.post(`/v1/admin/sagas/${SAGA_COMPLETED}/retry`,
    { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  expect(completed.status()).toBe(409);
  expect((await completed.json()).detail).toContain('completed');
});

test('a viewer token is turned away with a clear message', async ({ page }) => {
  await signIn(page, VIEWER_TOKEN);
  await expect(page.locator('#sign-in-error')).toHaveText(/no admin role/);
  await expect(page.locator('#console')).toBeHidden();
});

test('overview: projections, rebuild progress, lag state and charts', async ({ page }) => {
  await signIn(page);
  await expect(page.locator('#who')).toContainText('acme');
  const rows = page.locator('#projections tbody tr');
  await expect(rows).toHaveCount(6);
  const tasks = page.locator('#projections tr[data-projection="tasks"]');
  await expect(tasks).toContainText('g2');
  // Generation 3 has applied 751 of the 1,200 records the live generation has.
  await expect(tasks).toContainText('g3');
  await expect(tasks).toContainText('62.6%');
  await expect(tasks).toContainText('751 of 1,200 records (live offsets)');
  await expect(page.locator('#projections tr[data-projection="usage"]')).toContainText('g3');

  // The broker is a closed port here: the console says so rather than failing.
  await expect(page.locator('#broker')).toHaveClass(/down/);
  await expect(page.locator('#broker')).toContainText(`Broker ${BROKERS} unreachable`);
  await expect(page.locator('#lag-chart')).toContainText('Lag unknown');
  await expect(page.locator('#partitions tbody tr').first()).toContainText('unknown');
  await expect(page.locator('#summary')).toContainText('broker unreachable');

  // The command-rate chart has the seeded trickle and burst.
  const bars = page.locator('#rate-chart svg rect.bar');
  expect(await bars.count()).toBeGreaterThan(20);
  await expect(page.locator('#rate-chart .chart-note')).toContainText('events; buckets of 10 s');
  await expect(page.locator('#dlq-count')).toHaveText('2');

  // Unmasked, for a person to look at (kept with the test's results).
  await page.screenshot({ path: test.info().outputPath('overview-unmasked.png'), fullPage: true });
  await expect(page).toHaveScreenshot('overview.png', {
    fullPage: true,
    mask: [page.locator('.dynamic')],
  });
});

test('parked outbox events: listed with the reason, re-queued into the outbox', async ({ page, request }) => {
  await signIn(page);
  await page.getByRole('tab', { name: /Dead letters/ }).click();
  const table = page.locator('#parked-events tbody');
  const row = table.locator(`tr[data-parked="${PARKED_OUTBOX_ID}"]`);
  await expect(row).toContainText('Message size too large');
  await expect(row).toContainText('agent');
  await row.getByRole('button', { name: 'Re-queue' }).click();
  await expect(page.locator('#notice')).toHaveText(/back in the outbox/);
  await expect(table).toContainText('No parked events');

  const again = await request.post(`/v1/admin/outbox/parked/${PARKED_OUTBOX_ID}/requeue`,
    { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  expect(again.status()).toBe(404);
  expect(again.headers()['content-type']).toBe('application/problem+json');
});

test('dead letters: one re-applies, one still fails, both said plainly', async ({ page, request }) => {
  await signIn(page);
  await page.getByRole('tab', { name: /Dead letters/ }).click();
  const table = page.locator('#dead-letters tbody');
  await expect(table.locator('tr')).toHaveCount(2);
  const audit = table.locator('tr[data-dead-letter]', { hasText: 'audit' });
  await expect(audit).toContainText('e2e.agents[0]@17');
  await expect(audit).toContainText('deadlock detected');

  await audit.getByRole('button', { name: 'Retry' }).click();
  await expect(page.locator('#notice')).toHaveText(/re-applied to audit/);
  await expect(table.locator('tr')).toHaveCount(1);
  await expect(page.locator('#dlq-count')).toHaveText('1');

  // Applied for real: the audit read model now has the event.
  const audited = await request.get(`/v1/audit?aggregate_id=${AGENT}`,
    { headers: { authorization: `Bearer ${VIEWER_TOKEN}` } });
  expect(audited.status()).toBe(200);
  expect((await audited.json()).items.map((e) => e.event_type)).toEqual(['AgentCreated']);

  const broken = table.locator('tr[data-dead-letter]', { hasText: 'tasks' });
  await broken.getByRole('button', { name: 'Retry' }).click();
  await expect(page.locator('#notice')).toHaveClass(/bad/);
  await expect(page.locator('#notice')).toContainText('still does not apply');
  await expect(broken.getByRole('button', { name: 'Retry' })).toBeEnabled();

  await page.locator('#dlq-state').selectOption('all');
  await expect(table.locator('tr')).toHaveCount(3);
  await expect(table.locator('tr', { hasText: 'audit' }).locator('.badge')).toHaveText('retried');
  await page.screenshot({ path: test.info().outputPath('dead-letters.png'), fullPage: true });
});

test('sagas: parked ones with their step log, retry; cancel a running one', async ({ page }) => {
  await signIn(page);
  await page.getByRole('tab', { name: 'Sagas' }).click();
  await expect(page.locator('#saga-statuses button.active')).toHaveText('parked');
  const rows = page.locator('#sagas tbody tr');
  await expect(rows).toHaveCount(2);
  await expect(page.locator(`#sagas tr[data-saga="${SAGA_OTHER_TENANT}"]`)).toHaveCount(0);
  await expect(page.locator('#saga-tenant')).toContainText('acme');

  await page.locator(`#sagas tr[data-saga="${SAGA_PARKED}"]`).click();
  const detail = page.locator('#saga-detail');
  await expect(detail).toContainText(`Saga ${SAGA_PARKED}`);
  await expect(detail.locator('#saga-steps tbody tr')).toHaveCount(7);
  await expect(detail).toContainText('knowledge base quota exceeded');
  await expect(detail.getByRole('button', { name: 'Cancel saga…' })).toBeEnabled();
  await expect(page).toHaveScreenshot('saga-step-log.png', { fullPage: true, mask: [page.locator('.dynamic')] });

  await detail.getByRole('button', { name: 'Retry compensation' }).click();
  await detail.getByRole('button', { name: 'Yes, retry' }).click();
  await expect(page.locator('#notice')).toHaveText(/retry accepted/);
  // The sagas service logged the operator's action in the step log.
  await expect(detail.locator('#saga-steps')).toContainText('operator');
  await expect.poll(() => detail.locator('#saga-steps tbody tr').count()).toBeGreaterThanOrEqual(8);

  await page.locator('#saga-statuses').getByRole('button', { name: 'running', exact: true }).click();
  await page.locator(`#sagas tr[data-saga="${SAGA_RUNNING}"]`).click();
  await expect(detail).toContainText(`Saga ${SAGA_RUNNING}`);
  await expect(detail.getByRole('button', { name: 'Retry compensation' })).toBeDisabled();
  await detail.getByRole('button', { name: 'Cancel saga…' }).click();
  await detail.getByRole('button', { name: 'Yes, cancel' }).click();
  await expect(page.locator('#notice')).toHaveText(/cancel accepted/);
  await expect(detail.locator('.detail-head .badge')).toHaveText('cancelled');
  await expect(page.locator(`#sagas tr[data-saga="${SAGA_RUNNING}"]`)).toHaveCount(0);
});

test('events of an aggregate, newest first, from a dead letter link or typed in', async ({ page }) => {
  await signIn(page);
  await page.getByRole('tab', { name: /Dead letters/ }).click();
  await page.locator('#dlq-state').selectOption('all');
  await page.locator('#dead-letters tr', { hasText: 'audit' }).getByRole('button', { name: /0196f3a0/ }).click();
  await expect(page).toHaveURL(/#events$/);
  const rows = page.locator('#events tbody tr');
  await expect(rows).toHaveCount(4);
  await expect(rows.first()).toContainText('AgentDeployed');
  await expect(rows.last()).toContainText('AgentCreated');
  await rows.last().locator('summary').click();
  await expect(rows.last().locator('pre')).toContainText('"name": "Ada"');
  await page.screenshot({ path: test.info().outputPath('events.png'), fullPage: true });

  await page.locator('#aggregate-id').fill('not-a-uuid');
  await page.getByRole('button', { name: 'Show events' }).click();
  await expect(page.locator('#events-error')).toContainText('UUID');
  await page.locator('#aggregate-id').fill('0196f3a0-0000-7000-8000-0000000fffff');
  await page.getByRole('button', { name: 'Show events' }).click();
  await expect(page.locator('#events-error')).toHaveText('No events of this aggregate.');
});

test('signing out forgets the token', async ({ page }) => {
  await signIn(page);
  await expect(page.locator('#console')).toBeVisible();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.locator('#sign-in')).toBeVisible();
  expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  await page.reload();
  await expect(page.locator('#sign-in')).toBeVisible();
});
