// s3rver as the compose stack's S3 server: the bucket made at start (S3_BUCKET, default
// `spotter`), data in /data, and a clean exit on SIGTERM (node as PID 1 would ignore it,
// and every `docker-compose down` would wait out its stop timeout). Path-style only
// (S3_FORCE_PATH_STYLE): with vhost buckets on, s3rver takes the host name `minio` for a
// bucket of that name and answers 404 to every request.
const S3rver = require('s3rver');

const bucket = process.env.S3_BUCKET || 'spotter';
const server = new S3rver({ address: '0.0.0.0', port: 9000, directory: '/data', silent: true, vhostBuckets: false, configureBuckets: [{ name: bucket }] });
server.run().then(
  () => console.log(`s3rver listening on port 9000, bucket ${bucket}`),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
for (const signal of ['SIGTERM', 'SIGINT']) process.once(signal, () => server.close().then(() => process.exit(0)));
