import { describe, expect, it } from 'vitest';
import { validateOipRequest, validateOipResponse } from './support/oip-spec.js';

// The conformance check the OIP tests rely on: it must refuse what the document does not allow.
describe('the OIP document validator (test/support/oip-spec.ts)', () => {
  const output = { name: 'num_detections', datatype: 'INT32', shape: [1], data: [3] };

  it('accepts conforming requests and answers, binary tensors counted against the bytes that follow', () => {
    expect(() => validateOipResponse('GET', '/v2', 200, { name: 'spotter', version: '1', extensions: [] })).not.toThrow();
    expect(() => validateOipResponse('POST', '/v2/models/m/infer', 200, { model_name: 'm', outputs: [output] })).not.toThrow();
    expect(() => validateOipResponse('POST', '/v2/models/m/versions/3/infer', 200, { model_name: 'm', outputs: [{ ...output, data: undefined, parameters: { binary_data_size: 4 } }] }, 4)).not.toThrow();
    expect(() => validateOipRequest('POST', '/v2/models/m/infer', { inputs: [{ name: 'IMAGE', shape: [1], datatype: 'BYTES', parameters: { binary_data_size: 9 } }] } as never, 9)).not.toThrow();
    expect(() => validateOipResponse('GET', '/v2/models/m/ready', 404, { error: 'no such model' })).not.toThrow();
  });

  it('refuses what the document does not allow', () => {
    expect(() => validateOipResponse('GET', '/v2', 200, { name: 'spotter' })).toThrow(/metadata_server_response/);
    expect(() => validateOipResponse('POST', '/v2/models/m/infer', 200, { outputs: [output] })).toThrow(/model_name/);
    expect(() => validateOipResponse('POST', '/v2/models/m/infer', 200, { model_name: 'm', outputs: [{ name: 'x', shape: [1], datatype: 'FP32' }] })).toThrow(/data/);
    expect(() => validateOipResponse('POST', '/v2/models/m/infer', 200, { model_name: 'm', outputs: [{ ...output, data: undefined, parameters: { binary_data_size: 4 } }] }, 8)).toThrow(/add up to 4/);
    expect(() => validateOipResponse('POST', '/v2/models/m/infer', 400, { error: { code: 'X', message: 'nested' } })).toThrow(/inference_error_response|string/);
    expect(() => validateOipResponse('GET', '/v2/models/m', 201, {})).toThrow(/declares no 201/);
    expect(() => validateOipRequest('POST', '/v2/models/m/infer', { inputs: [{ name: 'IMAGE', shape: [1], datatype: 'BYTES' }] } as never)).toThrow(/data/);
    expect(() => validateOipResponse('GET', '/v2/nothing', 200, {})).toThrow(/not an operation/);
  });
});
