// Seeds the e2e database and prints the SQL to stdout (the runner pipes it into psql).
//
// Everything the console shows comes from here: projections' bookkeeping (a rebuild in
// progress), dead letters (one that re-applies: a real Avro record of a schema registered
// with the running schema registry; one that does not decode), sagas with step logs, and
// events (one agent's stream, plus a spread over the last minutes for the command-rate chart).
// Fixed ids and timestamps keep the screenshot stable; only the chart's events are relative
// to now.
//
// Environment: PREFIX (topic prefix), REGISTRY_URL, ROOT (the repository).

import { readFileSync } from 'node:fs';
import avro from 'avsc';

import { AGENT, PARKED_OUTBOX_ID, SAGA_COMPLETED, SAGA_OTHER_TENANT, SAGA_PARKED, SAGA_RUNNING, TENANT } from './fixtures.mjs';

const prefix = process.env.PREFIX;
const registry = process.env.REGISTRY_URL;
const root = process.env.ROOT;

const q = (text) => `'${String(text).replace(/'/g, "''")}'`;
const json = (value) => `${q(JSON.stringify(value))}::json`;
const jsonb = (value) => `${q(JSON.stringify(value))}::jsonb`;

/** Registers the AgentCreated schema and encodes one event in the Confluent wire format. */
async function agentCreatedRecord() {
  const avsc = readFileSync(`${root}/schemas/avro/agenthub.events.AgentCreated.avsc`, 'utf8');
  const subject = `${prefix}.agents-agenthub.events.AgentCreated`;
  const answer = await fetch(`${registry}/subjects/${encodeURIComponent(subject)}/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema: avsc }),
  });
  if (!answer.ok) throw new Error(`registering ${subject}: ${answer.status} ${await answer.text()}`);
  const { id } = await answer.json();
  const type = avro.Type.forSchema(JSON.parse(avsc));
  const body = type.toBuffer({
    metadata: {
      event_id: '5b0c6f5e-8d0f-5a8e-9a39-0c0a4e2b6a01',
      event_type: 'AgentCreated',
      aggregate_type: 'agent',
      aggregate_id: AGENT,
      sequence: 1,
      tenant_id: TENANT,
      occurred_at: Date.UTC(2026, 10, 30, 9, 15, 0) * 1000,
      correlation_id: 'e2e-create-ada',
      causation_id: null,
      traceparent: null,
    },
    tenant_id: TENANT,
    name: 'Ada',
    industry: 'retail',
    config: { provider: 'openai', model: 'gpt-4o', temperature: 0.7, max_tokens: 1024, system_prompt: 'Be helpful.' },
  });
  const header = Buffer.alloc(5);
  header.writeUInt8(0, 0);
  header.writeUInt32BE(id, 1);
  return Buffer.concat([header, body]).toString('hex');
}

function projections() {
  const topics = { agents: [120, 98, 143], tasks: [410, 388, 402], conversations: [1250, 1190, 1302], billing: [36, 41, 29] };
  const reads = {
    agents: ['agents', 'tasks'], tasks: ['tasks'], conversations: ['conversations'],
    billing: ['billing'], usage: ['conversations', 'tasks'], audit: ['agents', 'tasks', 'conversations', 'billing'],
  };
  const live = { agents: 1, tasks: 2, conversations: 1, billing: 1, usage: 3, audit: 1 };
  const sql = [];
  for (const [projection, generation] of Object.entries(live)) {
    const building = projection === 'tasks' ? 3 : null;
    sql.push(`INSERT INTO projection_generations (projection, live_generation, building_generation, swapped_at)
      VALUES (${q(projection)}, ${generation}, ${building ?? 'NULL'}, '2026-11-28 14:30:00+00');`);
    for (const topic of reads[projection]) {
      topics[topic].forEach((count, partition) => {
        // The usage projection is a little behind on conversations; the rest is caught up.
        const next = projection === 'usage' && topic === 'conversations' ? count - 7 * (partition + 1) : count;
        sql.push(`INSERT INTO projection_offsets (projection, generation, topic, partition, next_offset, updated_at)
          VALUES (${q(projection)}, ${generation}, ${q(`${prefix}.${topic}`)}, ${partition}, ${next}, '2026-12-01 23:59:00+00');`);
      });
    }
  }
  // The tasks rebuild into generation 3 is part way; its last batch was 20 seconds ago.
  [260, 241, 250].forEach((next, partition) => {
    sql.push(`INSERT INTO projection_offsets (projection, generation, topic, partition, next_offset, updated_at)
      VALUES ('tasks', 3, ${q(`${prefix}.tasks`)}, ${partition}, ${next}, now() - interval '20 seconds');`);
  });
  return sql;
}

function deadLetters(payloadHex) {
  const row = (projection, topic, partition, offset, key, payload, error, failedAt, retriedAt) =>
    `INSERT INTO projection_dead_letters (projection, topic, partition, "offset", record_key, payload, headers, error, failed_at, retried_at, forwarded)
     VALUES (${q(projection)}, ${q(`${prefix}.${topic}`)}, ${partition}, ${offset}, ${q(key)}, ${payload},
             ${jsonb({ event_type: key === AGENT ? 'AgentCreated' : 'TaskCreated' })}, ${q(error)}, ${q(failedAt)}, ${retriedAt ? q(retriedAt) : 'NULL'}, true);`;
  return [
    row('tasks', 'tasks', 1, 388, '0196f3a0-0000-7000-8000-00000000b777', "decode('00000003e7deadbeef', 'hex')",
      'decode: Schema 999 not found in the schema registry', '2026-12-01 22:14:05+00', null),
    row('audit', 'agents', 0, 17, AGENT, `decode('${payloadHex}', 'hex')`,
      'apply: deadlock detected (SQLSTATE 40P01)', '2026-12-01 23:02:41+00', null),
    row('agents', 'tasks', 2, 355, '0196f3a0-0000-7000-8000-00000000b778', "decode('00', 'hex')",
      'apply: could not serialize access due to concurrent update', '2026-12-01 23:38:10+00', '2026-12-01 23:40:00+00'),
  ];
}

function sagas() {
  const sql = [];
  const saga = (id, type, correlation, tenant, status, step, attempts, data, lastError, created, updated, next) =>
    sql.push(`INSERT INTO saga_instances (saga_id, saga_type, correlation_id, tenant_id, status, step, attempts, data,
        deadline_at, next_attempt_at, last_error, created_at, updated_at)
      VALUES (${q(id)}, ${q(type)}, ${q(correlation)}, ${q(tenant)}, ${q(status)}, ${q(step)}, ${attempts}, ${jsonb(data)},
        NULL, ${q(next)}, ${lastError ? q(lastError) : 'NULL'}, ${q(created)}, ${q(updated)});`);
  const step = (id, seq, name, action, key, outcome, detail, at) =>
    sql.push(`INSERT INTO saga_steps (saga_id, seq, step, action, idempotency_key, outcome, detail, at)
      VALUES (${q(id)}, ${seq}, ${q(name)}, ${q(action)}, ${key ? q(key) : 'NULL'}, ${q(outcome)}, ${detail ? q(detail) : 'NULL'}, ${q(at)});`);
  const agentB = '0196f3a0-0000-7000-8000-00000000a002';
  // Parked: provisioning was refused, then releasing the quota slot kept failing.
  saga(SAGA_PARKED, 'agent_deployment', agentB, TENANT, 'parked', 'release_slot', 5,
    { agent_id: agentB, slot_reserved: true, reason: 'provisioning refused: knowledge base quota exceeded' },
    'command API answered 503 Service Unavailable', '2026-12-01 21:00:00+00', '2026-12-01 21:06:30+00', '2026-12-01 21:06:30+00');
  step(SAGA_PARKED, 1, 'reserve_slot', 'ReserveAgentSlot', `saga:${SAGA_PARKED}:reserve_slot:0`, 'ok', null, '2026-12-01 21:00:01+00');
  step(SAGA_PARKED, 2, 'provision', 'provision', null, 'rejected', 'provisioning refused: knowledge base quota exceeded', '2026-12-01 21:00:03+00');
  for (let i = 0; i < 4; i += 1) {
    step(SAGA_PARKED, 3 + i, 'release_slot', 'ReleaseAgentSlot', `saga:${SAGA_PARKED}:release_slot:0`, 'transient',
      'command API answered 503 Service Unavailable', `2026-12-01 21:0${1 + i}:0${i}+00`);
  }
  step(SAGA_PARKED, 7, 'release_slot', 'park', null, 'parked', 'compensation failed 5 times', '2026-12-01 21:06:30+00');

  // Running, waiting for its next step far ahead (so the executor leaves it alone here).
  const task = '0196f3a0-0000-7000-8000-00000000c001';
  saga(SAGA_RUNNING, 'task_execution', task, TENANT, 'running', 'start', 0, { task_id: task, agent_id: AGENT },
    null, '2026-12-01 22:30:00+00', '2026-12-01 22:30:02+00', '2099-01-01 00:00:00+00');
  step(SAGA_RUNNING, 1, 'pick_agent', 'pick_agent', null, 'ok', `agent ${AGENT}`, '2026-12-01 22:30:01+00');
  step(SAGA_RUNNING, 2, 'assign', 'AssignTask', `saga:${SAGA_RUNNING}:assign:0`, 'ok', null, '2026-12-01 22:30:02+00');

  const done = SAGA_COMPLETED;
  saga(done, 'conversation_reply', 'msg-7f3a', TENANT, 'completed', 'done', 0, { tokens: { prompt: 812, completion: 96 } },
    null, '2026-12-01 20:10:00+00', '2026-12-01 20:10:04+00', '2026-12-01 20:10:04+00');
  step(done, 1, 'generate', 'llm', null, 'ok', '812 prompt + 96 completion tokens', '2026-12-01 20:10:03+00');
  step(done, 2, 'reply', 'SendReply', `saga:${done}:reply:0`, 'ok', null, '2026-12-01 20:10:04+00');

  const undone = '0196f3a0-0000-7000-8000-0000000005a4';
  saga(undone, 'agent_deployment', '0196f3a0-0000-7000-8000-00000000a003', TENANT, 'compensated', 'record_failure', 0,
    { reason: 'deployment refused: 409' }, null, '2026-12-01 19:00:00+00', '2026-12-01 19:00:09+00', '2026-12-01 19:00:09+00');

  const billing = '0196f3a0-0000-7000-8000-0000000005a5';
  saga(billing, 'billing_cycle', 'period-2026-11', TENANT, 'parked', 'charge', 5, { invoice_id: '0196f3a0-0000-7000-8000-00000000d001' },
    'payment gateway timed out', '2026-12-01 00:00:00+00', '2026-12-01 00:09:00+00', '2026-12-01 00:09:00+00');
  step(billing, 1, 'issue', 'IssueInvoice', `saga:${billing}:issue:0`, 'ok', null, '2026-12-01 00:00:01+00');
  step(billing, 2, 'charge', 'charge', null, 'parked', 'payment gateway timed out', '2026-12-01 00:09:00+00');

  // Another tenant's: never shown to acme's token.
  saga(SAGA_OTHER_TENANT, 'agent_deployment', '0196f3a0-0000-7000-8000-00000000e001', 'globex', 'parked',
    'release_slot', 5, {}, 'hidden from acme', '2026-12-01 18:00:00+00', '2026-12-01 18:05:00+00', '2026-12-01 18:05:00+00');
  return sql;
}

function events() {
  const at = (sql) => `to_char((${sql}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
  const meta = (occurred, correlation) => `json_build_object('tenant_id', '${TENANT}', 'occurred_at', ${occurred},
      'correlation_id', '${correlation}', 'actor', 'developer')`;
  const agent = [
    ['AgentCreated', { AgentCreated: { tenant_id: TENANT, name: 'Ada', industry: 'retail',
      config: { provider: 'openai', model: 'gpt-4o', temperature: 0.7, max_tokens: 1024, system_prompt: 'Be helpful.' } } }],
    ['AgentConfigUpdated', { AgentConfigUpdated: { name: 'Ada',
      config: { provider: 'openai', model: 'gpt-4o-mini', temperature: 0.3, max_tokens: 2048, system_prompt: 'Be brief.' } } }],
    ['AgentDeploymentRequested', { AgentDeploymentRequested: {} }],
    ['AgentDeployed', { AgentDeployed: { knowledge_base_id: 'kb-7', widget_embed_code: '<script src="/w/7.js"></script>' } }],
  ];
  const sql = agent.map(([type, payload], i) => `INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
    VALUES ('agent', '${AGENT}', ${i + 1}, '${type}', '1.0', ${json(payload)},
      ${meta(at(`timestamptz '2026-11-30 09:15:00+00' + interval '${i * 7} minutes'`), 'e2e-create-ada')});`);
  // The chart: a steady trickle over the last 14 minutes and a burst four to five minutes ago.
  sql.push(`INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
    SELECT 'task', md5('e2e-task-' || n)::uuid::text, 1, 'TaskCreated', '1.0',
           json_build_object('TaskCreated', json_build_object('title', 'Call back #' || n)),
           ${meta(at(`now() - make_interval(secs => CASE WHEN n <= 240 THEN n * 3.5 ELSE 240 + (n - 240) * 0.4 END)`), 'e2e-chart')}
    FROM generate_series(1, 400) n;`);
  return sql;
}

// An event the relay could not publish, parked, and its aggregate's later event waiting behind it.
function parked() {
  return [
    `INSERT INTO outbox_parked (id, aggregate_type, aggregate_id, sequence, enqueued_at, reason, parked_at)
      VALUES (${PARKED_OUTBOX_ID}, 'agent', '${AGENT}', 4, '2026-11-30 09:36:00+00',
        'Message size too large', '2026-11-30 09:36:01+00');`,
    `SELECT setval('outbox_id_seq', ${PARKED_OUTBOX_ID});`,
  ];
}

const payload = await agentCreatedRecord();
const statements = ['BEGIN;', ...projections(), ...deadLetters(payload), ...sagas(), ...events(), ...parked(), 'COMMIT;'];
process.stdout.write(`${statements.join('\n')}\n`);
