/**
 * `ali-oss` ships no TypeScript types. Its shape, as far as stratafs uses it, is
 * {@link AliOssClient} in `ali-oss-types.ts`; this declaration only lets the lazy
 * `import('ali-oss')` compile.
 */
declare module 'ali-oss' {
  const OSS: unknown;
  export default OSS;
}
