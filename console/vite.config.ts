// The console's build: one entry, served under /console/ (by CloudFront from S3 in AWS, by the local gateway on
// `make run`). No inline scripts or styles, so the strict CSP (default-src 'self') holds.
import { defineConfig } from 'vite'

export default defineConfig({
  base: '/console/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    target: 'es2022',
    assetsInlineLimit: 0, // no data: URLs (the CSP allows images from 'self', S3 and blob: only)
    reportCompressedSize: false, // scripts/console_budget.py measures and enforces the gzip sizes
  },
})
