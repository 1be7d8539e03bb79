// Schemas of a session's connection routes: GET /status, GET /session-info, POST /reconnect.
import { Type, type Static } from '@sinclair/typebox'
import { ClientId, Nullable, NullableTimestamp, SessionStateSchema, StringEnum, Timestamp } from './common.js'

export const LeaseStatusSchema = Nullable(
  Type.Object({
    role: StringEnum(['holder', 'standby', 'stopped'], { description: 'holder: this instance connects; standby: another one does (or nobody yet)' }),
    owner: Type.String({ description: "This instance's lease owner id" }),
    holder: Nullable(Type.String({ description: 'Who holds the lease (this instance when role is holder)' })),
    fencingToken: Nullable(Type.Integer({ description: 'Increases on every takeover; keystore writes carry it' })),
    expiresAt: NullableTimestamp,
    takeovers: Type.Integer({ description: 'Times the lease changed hands (all instances)' }),
  }, { description: 'The session lease (Postgres mode); null without one (file mode, SESSION_LEASE=off)' }),
)

export const StatusResponse = Type.Object(
  {
    clientId: Type.String(),
    state: SessionStateSchema,
    connected: Type.Boolean(),
    account: Nullable(Type.Object({ jid: Type.String(), name: Nullable(Type.String()) })),
    connectedSince: NullableTimestamp,
    lastDisconnect: Nullable(Type.Object({ code: Nullable(Type.Integer()), reason: Type.String(), at: Timestamp })),
    reconnect: Type.Object({ attempt: Type.Integer(), nextRetryAt: NullableTimestamp }),
    qrAvailable: Type.Boolean(),
    startedAt: Timestamp,
    lease: LeaseStatusSchema,
  },
  {
    examples: [
      {
        clientId: 'rafi-scheme-manager',
        state: 'reconnecting',
        connected: false,
        account: null,
        connectedSince: null,
        lastDisconnect: { code: 428, reason: 'Connection Terminated', at: '2025-01-01T12:00:00.000Z' },
        reconnect: { attempt: 3, nextRetryAt: '2025-01-01T12:00:06.000Z' },
        qrAvailable: false,
        startedAt: '2025-01-01T11:59:50.000Z',
        lease: { role: 'holder', owner: '148e21b7:612:9f2c01aa', holder: '148e21b7:612:9f2c01aa', fencingToken: 3, expiresAt: '2025-01-01T12:00:08.000Z', takeovers: 2 },
      },
    ],
  },
)

const StoreHealthSchema = Type.Object({
  mode: StringEnum(['file', 'postgres']),
  degraded: Type.Boolean({ description: 'Postgres unreachable: writes go to the file mirror only' }),
  databaseReachable: Nullable(Type.Boolean()),
  mirrorPath: Type.String(),
  lastWriteAt: NullableTimestamp,
  version: Type.Integer(),
  encryption: Type.Boolean(),
  pendingCatchUp: Type.Boolean(),
})

export const SessionInfoResponse = Type.Object(
  {
    clientId: Type.String(),
    state: SessionStateSchema,
    account: StatusResponse.properties.account,
    connectedSince: NullableTimestamp,
    lastDisconnect: StatusResponse.properties.lastDisconnect,
    storage: Type.Unsafe<Static<typeof StoreHealthSchema> | null>({
      ...Nullable(StoreHealthSchema),
      description: 'null until the stored state is opened',
    }),
    keyCounts: Type.Record(Type.String(), Type.Integer(), { description: 'Stored Signal keys by type (never key material)' }),
    encryption: Type.Boolean(),
    uptimeSeconds: Type.Integer({ description: 'Since this session was started on this server' }),
    serverUptimeSeconds: Type.Integer(),
    lease: Type.Object(
      {
        mode: StringEnum(['postgres', 'off', 'folder-lock'], {
          description: 'postgres: one connection per session across instances; off: SESSION_LEASE=off; folder-lock: file mode (no lease across machines, folder locked locally)',
        }),
        description: Type.String(),
        role: Nullable(StringEnum(['holder', 'standby', 'stopped'])),
        owner: Nullable(Type.String({ description: "This instance's lease owner id" })),
        holder: Nullable(Type.String()),
        fencingToken: Nullable(Type.Integer()),
        expiresAt: NullableTimestamp,
        takeovers: Nullable(Type.Integer()),
        acquisitions: Nullable(Type.Integer({ description: 'Times this instance acquired it' })),
        losses: Nullable(Type.Integer({ description: 'Times this instance lost it without releasing' })),
        ttlMs: Nullable(Type.Integer()),
        lockFile: Nullable(Type.String({ description: 'File mode: the session folder lock (holds the owner pid)' })),
        lastError: Nullable(Type.String()),
      },
    ),
  },
  {
    examples: [
      {
        clientId: 'rafi-scheme-manager',
        state: 'open',
        account: { jid: '14155550123:7@s.whatsapp.net', name: 'Rafi' },
        connectedSince: '2025-01-01T12:00:00.000Z',
        lastDisconnect: null,
        storage: { mode: 'postgres', degraded: false, databaseReachable: true, mirrorPath: 'whatsapp-session/rafi-scheme-manager.json', lastWriteAt: '2025-01-01T12:00:01.000Z', version: 42, encryption: true, pendingCatchUp: false },
        keyCounts: { 'pre-key': 812, session: 3, 'sender-key': 1 },
        encryption: true,
        uptimeSeconds: 3600,
        serverUptimeSeconds: 3605,
        lease: {
          mode: 'postgres', description: 'Each session connects only while this instance holds its lease in Postgres (ttl 10000 ms); other instances wait in standby and take over when it is released or expires.',
          role: 'holder', owner: '148e21b7:612:9f2c01aa', holder: '148e21b7:612:9f2c01aa', fencingToken: 3,
          expiresAt: '2025-01-01T12:00:08.000Z', takeovers: 2, acquisitions: 1, losses: 0, ttlMs: 10000, lockFile: null, lastError: null,
        },
      },
    ],
  },
)

export const ReconnectBody = Type.Object({ clientId: Type.Optional(ClientId) }, { additionalProperties: false })

export const ReconnectResponse = Type.Object(
  { clientId: Type.String(), state: SessionStateSchema },
  { examples: [{ clientId: 'rafi-scheme-manager', state: 'connecting' }] },
)

