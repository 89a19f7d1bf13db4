/**
 * Prepares what the cloud examples need on local emulators: a bucket on an S3 server and a
 * container on Azurite, and the environment variables the examples read.
 */
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { BlobServiceClient } from '@azure/storage-blob';

/** Environment variables of the examples, for endpoints of running emulators. */
export async function exampleEnvironment(endpoints: { s3?: string; azureConnectionString?: string }): Promise<Record<string, string>> {
  const env: Record<string, string> = { S3_BUCKET: 'stratafs-examples', AZURE_CONTAINER: 'stratafs-examples', AWS_REGION: 'us-east-1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  if (endpoints.s3) {
    Object.assign(env, { S3_ENDPOINT: endpoints.s3, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' });
    const client = new S3Client({ endpoint: endpoints.s3, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    await client.send(new CreateBucketCommand({ Bucket: env.S3_BUCKET })).catch((error: { name?: string }) => {
      if (error.name !== 'BucketAlreadyOwnedByYou' && error.name !== 'BucketAlreadyExists') throw error;
    });
    client.destroy();
  }
  if (endpoints.azureConnectionString) {
    env.AZURE_STORAGE_CONNECTION_STRING = endpoints.azureConnectionString;
    await BlobServiceClient.fromConnectionString(endpoints.azureConnectionString).getContainerClient(env.AZURE_CONTAINER!).createIfNotExists();
  }
  return env;
}
