/** The part of avro-js (no bundled types) the sandbox uses. */
declare module 'avro-js' {
  interface AvroType {
    toBuffer(value: unknown): Buffer;
    fromBuffer(buffer: Buffer): unknown;
  }
  const avro: { parse(schema: string | object): AvroType };
  export default avro;
}
