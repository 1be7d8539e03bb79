// Request and response schemas of the single-session routes (/api/whatsapp/status, qr, send, ...).
import { Type, type Static } from '@sinclair/typebox'
import { SESSION_STATES } from '../lib/session-states.js'
import { ClientId, Nullable, NullableTimestamp, StringEnum, Timestamp } from './common.js'

export const SessionStateSchema = StringEnum(SESSION_STATES, {
  description: 'starting | qr (waiting for a scan) | connecting | open | reconnecting (backing off) | logged_out | replaced (another client took over; POST /reconnect to take it back) | stopped | standby',
})

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

export const QrQuery = Type.Object(
  {
    clientId: Type.Optional(ClientId),
    format: Type.Optional(
      StringEnum(['json', 'png', 'terminal'], {
        default: 'json',
        description: 'json (default), png (image/png) or terminal (text/plain to print in a terminal)',
      }),
    ),
  },
  { additionalProperties: false },
)
export type QrQuery = Static<typeof QrQuery>

export const QrResponse = Type.Object(
  {
    qr: Type.String({ description: 'Raw QR payload; render it or use dataUrl' }),
    dataUrl: Type.String({ description: 'PNG as a data: URL, for an <img src>' }),
    expiresAt: Timestamp,
  },
  { examples: [{ qr: '2@AbC...,xyz...,abc...,def...', dataUrl: 'data:image/png;base64,iVBORw0...', expiresAt: '2025-01-01T12:01:00.000Z' }] },
)

export const PairingCodeBody = Type.Object(
  {
    phone: Type.String({
      minLength: 1,
      maxLength: 32,
      description: 'The account\'s phone number in international format; spaces and dashes are fine',
      examples: ['+44 7700 900123'],
    }),
    clientId: Type.Optional(ClientId),
  },
  { additionalProperties: false },
)
export type PairingCodeBody = Static<typeof PairingCodeBody>
export const PairingCodeResponse = Type.Object(
  { clientId: Type.String(), pairingCode: Type.String({ description: 'Enter it on the phone: Linked devices > Link with phone number' }) },
  { examples: [{ clientId: 'rafi-scheme-manager', pairingCode: 'ABCD1234' }] },
)

export const SendBody = Type.Object(
  {
    to: Type.String({
      minLength: 1,
      maxLength: 128,
      description: 'Phone number in international format (digits, optional +, spaces and dashes) or a JID',
      examples: ['+1 415-555-0123', '14155550123@s.whatsapp.net'],
    }),
    text: Type.String({ minLength: 1, maxLength: 65536, examples: ['Your appointment is confirmed.'] }),
    clientId: Type.Optional(ClientId),
  },
  { additionalProperties: false },
)
export type SendBody = Static<typeof SendBody>
export const SendResponse = Type.Object(
  { clientId: Type.String(), messageId: Type.String(), to: Type.String({ description: 'The normalised JID' }) },
  { examples: [{ clientId: 'rafi-scheme-manager', messageId: '3EB0C431C26A1916E2A8', to: '14155550123@s.whatsapp.net' }] },
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

export const ClientIdBody = Type.Object({ clientId: Type.Optional(ClientId) }, { additionalProperties: false })

export const ReconnectResponse = Type.Object(
  { clientId: Type.String(), state: SessionStateSchema },
  { examples: [{ clientId: 'rafi-scheme-manager', state: 'connecting' }] },
)

export const CleanupSessionsResponse = Type.Object(
  {
    removed: Type.Array(
      Type.Object({
        file: Type.String(),
        reason: StringEnum(['temp', 'corrupt', 'orphan']),
      }),
    ),
    kept: Type.Array(Type.String({ description: 'Files of running or stored sessions' })),
    errors: Type.Array(Type.Object({ file: Type.String(), message: Type.String() })),
  },
  {
    examples: [
      {
        removed: [{ file: 'old-client.json', reason: 'orphan' }, { file: 'default.json.tmp-123-ab', reason: 'temp' }],
        kept: ['default.json'],
        errors: [],
      },
    ],
  },
)
