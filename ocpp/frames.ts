import { OcppErrorCode } from './errors';

// OCPP-J 1.6 RPC frames: CALL [2, id, action, payload], CALLRESULT [3, id, payload],
// CALLERROR [4, id, code, description, details].
export const MessageType = { CALL: 2, CALLRESULT: 3, CALLERROR: 4 } as const;

// OCPP-J 1.6: the unique id is a string of at most 36 characters.
export const MAX_MESSAGE_ID_LENGTH = 36;
// The id answered when a frame's own id cannot be read, so the peer still gets a CALLERROR it can log.
export const UNKNOWN_MESSAGE_ID = '-1';
// OCPP does not bound the description; we do, because descriptions can quote what the peer sent.
export const MAX_DESCRIPTION_LENGTH = 512;

export type JsonObject = Record<string, unknown>;

export type ParsedFrame =
  | { kind: 'call'; messageId: string; action: string; payload: JsonObject }
  | { kind: 'result'; messageId: string; payload: JsonObject }
  | { kind: 'error'; messageId: string; code: string; description: string; details: JsonObject }
  | {
      kind: 'invalid';
      messageId: string;
      // Set when the frame had a readable MessageTypeId, so the receiver can tell a broken CALL (which
      // gets a CALLERROR) from a broken CALLRESULT/CALLERROR (which must not: answering a response with
      // an error invites an endless error ping-pong between peers).
      messageTypeId?: number;
      code: OcppErrorCode;
      description: string;
    };

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(
  messageId: string,
  code: OcppErrorCode,
  description: string,
  messageTypeId?: number,
): ParsedFrame {
  return { kind: 'invalid', messageId, code, description, messageTypeId };
}

/**
 * Never throws. Choices where OCPP-J 1.6 leaves room:
 * - Everything structurally wrong (bad JSON, not an array, wrong element types or counts, unreadable
 *   id) is FormationViolation: 1.6 has no RpcFrameworkError, and "not conform the PDU structure" is
 *   the closest 1.6 definition.
 * - A frame that is well formed up to a missing last element (the payload of a CALL/CALLRESULT, the
 *   details of a CALLERROR) is ProtocolError, 1.6's "Payload for Action is incomplete".
 * - An unknown MessageTypeId is FormationViolation, since 1.6 has no MessageTypeNotSupported.
 * - An empty id is treated as unreadable: a reply to it could not be correlated.
 */
export function parseFrame(text: string): ParsedFrame {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return invalid(UNKNOWN_MESSAGE_ID, 'FormationViolation', 'Frame is not valid JSON');
  }
  if (!Array.isArray(frame)) {
    return invalid(UNKNOWN_MESSAGE_ID, 'FormationViolation', 'Frame must be a JSON array');
  }

  const [typeId, rawId] = frame;
  const idReadable = typeof rawId === 'string' && rawId.length > 0 && rawId.length <= MAX_MESSAGE_ID_LENGTH;
  const messageId = idReadable ? rawId : UNKNOWN_MESSAGE_ID;

  if (typeof typeId !== 'number' || !Number.isInteger(typeId)) {
    return invalid(messageId, 'FormationViolation', 'MessageTypeId (element 0) must be an integer');
  }
  if (!idReadable) {
    const why =
      typeof rawId !== 'string'
        ? 'must be a string'
        : rawId.length === 0
          ? 'must not be empty'
          : `must not be longer than ${MAX_MESSAGE_ID_LENGTH} characters`;
    return invalid(messageId, 'FormationViolation', `UniqueId (element 1) ${why}`, typeId);
  }

  switch (typeId) {
    case MessageType.CALL: {
      const action = frame[2];
      if (typeof action !== 'string' || action.length === 0) {
        return invalid(
          messageId,
          'FormationViolation',
          'Action (element 2) must be a non-empty string',
          typeId,
        );
      }
      if (frame.length === 3) return invalid(messageId, 'ProtocolError', 'CALL payload is missing', typeId);
      if (frame.length !== 4) {
        return invalid(messageId, 'FormationViolation', 'CALL must have exactly 4 elements', typeId);
      }
      if (!isJsonObject(frame[3])) {
        return invalid(messageId, 'FormationViolation', 'CALL payload must be a JSON object', typeId);
      }
      return { kind: 'call', messageId, action, payload: frame[3] };
    }
    case MessageType.CALLRESULT: {
      if (frame.length === 2)
        return invalid(messageId, 'ProtocolError', 'CALLRESULT payload is missing', typeId);
      if (frame.length !== 3) {
        return invalid(messageId, 'FormationViolation', 'CALLRESULT must have exactly 3 elements', typeId);
      }
      if (!isJsonObject(frame[2])) {
        return invalid(messageId, 'FormationViolation', 'CALLRESULT payload must be a JSON object', typeId);
      }
      return { kind: 'result', messageId, payload: frame[2] };
    }
    case MessageType.CALLERROR: {
      const [, , code, description, details] = frame;
      if (typeof code !== 'string' || typeof description !== 'string') {
        return invalid(
          messageId,
          'FormationViolation',
          'CALLERROR code and description (elements 2, 3) must be strings',
          typeId,
        );
      }
      if (frame.length === 4)
        return invalid(messageId, 'ProtocolError', 'CALLERROR details are missing', typeId);
      if (frame.length !== 5) {
        return invalid(messageId, 'FormationViolation', 'CALLERROR must have exactly 5 elements', typeId);
      }
      if (!isJsonObject(details)) {
        return invalid(messageId, 'FormationViolation', 'CALLERROR details must be a JSON object', typeId);
      }
      return { kind: 'error', messageId, code, description, details };
    }
    default:
      return invalid(
        messageId,
        'FormationViolation',
        `MessageTypeId ${typeId} is not defined by OCPP-J 1.6 (2, 3 or 4)`,
        typeId,
      );
  }
}

export function buildCall(messageId: string, action: string, payload: object): string {
  return JSON.stringify([MessageType.CALL, messageId, action, payload]);
}

export function buildCallResult(messageId: string, payload: object): string {
  return JSON.stringify([MessageType.CALLRESULT, messageId, payload]);
}

export function buildCallError(
  messageId: string,
  code: OcppErrorCode,
  description: string,
  details: object = {},
): string {
  const short =
    description.length > MAX_DESCRIPTION_LENGTH
      ? `${description.slice(0, MAX_DESCRIPTION_LENGTH - 1)}…`
      : description;
  return JSON.stringify([MessageType.CALLERROR, messageId, code, short, details]);
}
