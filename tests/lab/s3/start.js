// The lab's S3 server: @20minutes/s3rver (it verifies SigV4), on loopback, data in DIR.
// The package ships no bin/; this is its documented start. Credentials: S3RVER / S3RVER.
const S3rver = require('@20minutes/s3rver');
const [dir, port] = process.argv.slice(2);
new S3rver({ directory: dir, address: '127.0.0.1', port: Number(port), silent: true })
  .run()
  .then((a) => console.log('listening', a.port))
  .catch((e) => { console.error(e); process.exit(1); });
