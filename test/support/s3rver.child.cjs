// Runs s3rver 3.7.1's command line (the arguments after this script's name) with one fix, so
// that it keeps S3's guarantee that a PUT is whole once answered: s3rver writes an object's
// file in place and answers before the file is flushed, so a HEAD or GET right after a PUT may
// see an empty or short object, and a GET racing an overwrite may see a mix. Here a PUT writes a
// temp file next to the object, waits until it is on disk, then renames it over the object. The
// temp name is short (a long key still fits the file system's name limit) and does not end in
// s3rver's object suffix, so listings never show it.
//
// A second fix: s3rver reads `x-amz-copy-source` with `decodeURI`, which leaves `%2B`, `%3F`,
// `%23`, `%26`, `%3D`, `%3B`, `%40`… encoded, so a copy of a key holding `+`, `?`, `#`, `&`,
// `=`, `;` or `@` fails NoSuchKey, where S3 decodes the whole value. Here the header is handed
// to s3rver in the form its `decodeURI` turns into the key S3 would read.
//
// A third: s3rver's delimited listing skips every directory of its store below a common prefix,
// so a sub-directory holding only deeper keys (`a/b/c/x.txt` listed from `a/`) is left out. Here
// a delimited listing walks the whole prefix and folds the keys into common prefixes itself.
//
// A fourth: s3rver parses a batch delete's keys with its XML parser's defaults, which trim
// whitespace and read `1e3` as a number, so ` a` or `1e3` in a batch is not the key deleted.
// Here a batch delete's body is parsed with keys kept as sent.
//
// It relies on s3rver's FilesystemStore at that exact version: its `putObject(object)` (returns
// `{ size, md5 }`), `getResourcePath`, `putMetadata` and `listObjects(bucket, options)`, and on
// its object controller's `putObjectCopy(ctx)`, and on fast-xml-parser 3's `parse(xml, options)`.
// Started by test/support/s3-server.ts.
'use strict';
const { createHash, randomBytes } = require('node:crypto');
const { createWriteStream } = require('node:fs');
const { mkdir, rename, rm } = require('node:fs/promises');
const { dirname, join } = require('node:path');
const { Readable } = require('node:stream');
const { pipeline } = require('node:stream/promises');
const FilesystemStore = require('s3rver/lib/stores/filesystem');

FilesystemStore.prototype.putObject = async function putWholeObject(object) {
  const target = this.getResourcePath(object.bucket, object.key, 'object');
  const temp = join(dirname(target), `.partial-${randomBytes(4).toString('hex')}`);
  await mkdir(dirname(target), { recursive: true });
  const md5 = createHash('md5');
  let size = 0;
  const content = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content;
  async function* counted(chunks) {
    for await (const chunk of chunks) {
      md5.update(chunk);
      size += chunk.length;
      yield chunk;
    }
  }
  try {
    await pipeline(content, counted, createWriteStream(temp));
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  const digest = md5.digest('hex');
  await this.putMetadata(object.bucket, object.key, object.metadata, digest);
  return { size, md5: digest };
};

const listObjects = FilesystemStore.prototype.listObjects;
FilesystemStore.prototype.listObjects = async function listObjectsUnderEveryPrefix(bucket, options) {
  const { delimiter = '', prefix = '', maxKeys = Infinity } = options;
  if (!delimiter) return listObjects.call(this, bucket, options);
  const all = await listObjects.call(this, bucket, { ...options, delimiter: '', maxKeys: Infinity });
  const commonPrefixes = new Set();
  const objects = [];
  let isTruncated = false;
  for (const object of all.objects) {
    const at = object.key.slice(prefix.length).indexOf(delimiter);
    if (at !== -1) commonPrefixes.add(object.key.slice(0, prefix.length + at + 1));
    else if (objects.length < maxKeys) objects.push(object);
    else {
      isTruncated = true;
      break;
    }
  }
  return { objects, commonPrefixes: [...commonPrefixes].sort(), isTruncated };
};

const xmlParser = require(require.resolve('fast-xml-parser', { paths: [require.resolve('s3rver')] }));
const parseXml = xmlParser.parse;
xmlParser.parse = function parseKeysAsSent(xml, options, validation) {
  const keysAsSent = /<Delete[\s>]/.test(xml) ? { ...options, trimValues: false, parseNodeValue: false } : options;
  return parseXml.call(this, xml, keysAsSent, validation);
};

const objectController = require('s3rver/lib/controllers/object');
const putObjectCopy = objectController.putObjectCopy;
objectController.putObjectCopy = function putObjectCopyDecoded(ctx) {
  const source = ctx.headers['x-amz-copy-source'];
  if (typeof source === 'string') ctx.headers['x-amz-copy-source'] = encodeURI(decodeURIComponent(source));
  return putObjectCopy.call(this, ctx);
};

require('s3rver/bin/s3rver.js');
