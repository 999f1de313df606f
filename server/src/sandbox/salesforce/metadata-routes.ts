import type { SfRequest, SfResponse } from './rest-routes.ts';
import type { SalesforceSandboxState, SandboxField } from './state.ts';

/**
 * The Metadata API's CRUD calls bootstrap makes, over SOAP as jsforce sends them: `readMetadata`
 * and `upsertMetadata` of CustomField, CustomObject and PermissionSet. A new custom field stays
 * invisible to the API user until a permission set grants it (the sandbox treats every permission
 * set as assigned to the integration user).
 */
export function metadataRoute(state: SalesforceSandboxState, request: SfRequest): SfResponse {
  const token = /<sessionId>([^<]*)<\/sessionId>/.exec(request.rawBody)?.[1] ?? '';
  const session = state.sessions.get(xmlText(token));
  if (!session || session.expiresAt <= state.now().getTime())
    return fault('sf:INVALID_SESSION_ID', 'INVALID_SESSION_ID: Invalid Session ID found in SessionHeader');
  state.api.used += 1;
  const method = /<soapenv:Body[^>]*><(\w+)>/.exec(request.rawBody)?.[1];
  if (method === 'readMetadata') {
    const type = tag(request.rawBody, 'type');
    const names = tags(request.rawBody, 'fullNames');
    return envelope(
      'readMetadataResponse',
      `<result>${names.map((name) => readOne(state, type, name)).join('')}</result>`,
    );
  }
  if (method === 'upsertMetadata') {
    const items = [...request.rawBody.matchAll(/<metadata xsi:type="(\w+)">([\s\S]*?)<\/metadata>/g)];
    const results = items.map(([, type = '', body = '']) => upsertOne(state, type, body));
    return envelope('upsertMetadataResponse', results.join(''));
  }
  return fault('sf:UNKNOWN_EXCEPTION', `The sandbox does not answer ${method ?? 'this call'}.`);
}

function readOne(state: SalesforceSandboxState, type: string, fullName: string): string {
  if (type === 'CustomField') {
    const [object = '', field = ''] = fullName.split('.');
    const found = state.objects.get(object)?.fields.get(field);
    return found?.custom
      ? `<records xsi:type="CustomField"><fullName>${fullName}</fullName></records>`
      : '<records xsi:nil="true"/>';
  }
  if (type === 'CustomObject')
    return state.objects.has(fullName)
      ? `<records xsi:type="CustomObject"><fullName>${fullName}</fullName></records>`
      : '<records xsi:nil="true"/>';
  if (type === 'PermissionSet') {
    const set = state.permissionSets.get(fullName);
    return set
      ? `<records xsi:type="PermissionSet"><fullName>${fullName}</fullName></records>`
      : '<records xsi:nil="true"/>';
  }
  return '<records xsi:nil="true"/>';
}

function upsertOne(state: SalesforceSandboxState, type: string, body: string): string {
  const fullName = tag(body, 'fullName');
  let created = false;
  if (type === 'CustomField') {
    const [object = '', name = ''] = fullName.split('.');
    const target = state.objects.get(object);
    if (!target) return failure(fullName, 'INVALID_CROSS_REFERENCE_KEY', `no such object ${object}`);
    created = !target.fields.has(name);
    target.fields.set(name, customField(name, body));
  } else if (type === 'CustomObject') {
    created = !state.objects.has(fullName);
    if (created)
      state.objects.set(fullName, {
        name: fullName,
        keyPrefix: `a0${state.objects.size}`,
        fields: new Map([['Id', { name: 'Id', label: 'Record ID', type: 'id', updateable: false, custom: false }]]),
        records: new Map(),
        history: [],
      });
    const target = state.objects.get(fullName)!;
    for (const [, fieldBody = ''] of body.matchAll(/<fields>([\s\S]*?)<\/fields>/g)) {
      const name = tag(fieldBody, 'fullName');
      target.fields.set(name, customField(name, fieldBody));
    }
  } else if (type === 'PermissionSet') {
    const set = state.permissionSets.get(fullName) ?? { name: fullName, fieldPermissions: [] };
    created = !state.permissionSets.has(fullName);
    for (const [, permission = ''] of body.matchAll(/<fieldPermissions>([\s\S]*?)<\/fieldPermissions>/g)) {
      const field = tag(permission, 'field');
      if (tag(permission, 'readable') === 'true' && !set.fieldPermissions.includes(field))
        set.fieldPermissions.push(field);
      if (tag(permission, 'readable') === 'true') state.grantedFields.add(field);
    }
    state.permissionSets.set(fullName, set);
  } else {
    return failure(fullName, 'INVALID_TYPE', `the sandbox does not keep ${type}`);
  }
  return `<result><created>${created}</created><fullName>${fullName}</fullName><success>true</success></result>`;
}

function customField(name: string, body: string): SandboxField {
  const type = tag(body, 'type');
  const mapped: SandboxField['type'] =
    type === 'Checkbox'
      ? 'boolean'
      : type === 'Number'
        ? 'currency'
        : type === 'Lookup'
          ? 'reference'
          : type === 'LongTextArea'
            ? 'textarea'
            : type === 'DateTime'
              ? 'datetime'
              : type === 'Date'
                ? 'date'
                : type === 'Picklist'
                  ? 'picklist'
                  : 'string';
  return { name, label: tag(body, 'label'), type: mapped, updateable: true, custom: true };
}

const tag = (xml: string, name: string) => xmlText(new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1] ?? '');
const tags = (xml: string, name: string) =>
  [...xml.matchAll(new RegExp(`<${name}>([^<]*)</${name}>`, 'g'))].map((m) => xmlText(m[1] ?? ''));
const xmlText = (text: string) =>
  text
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&apos;', "'")
    .replaceAll('&amp;', '&');

function failure(fullName: string, statusCode: string, message: string): string {
  return `<result><errors><message>${message}</message><statusCode>${statusCode}</statusCode></errors><fullName>${fullName}</fullName><success>false</success></result>`;
}

function envelope(response: string, inner: string): SfResponse {
  return {
    status: 200,
    xml: `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="http://soap.sforce.com/2006/04/metadata" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><${response}>${inner}</${response}></soapenv:Body></soapenv:Envelope>`,
  };
}

function fault(code: string, message: string): SfResponse {
  return {
    status: 500,
    xml: `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="http://soap.sforce.com/2006/04/metadata"><soapenv:Body><soapenv:Fault><faultcode>${code}</faultcode><faultstring>${message}</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>`,
  };
}
