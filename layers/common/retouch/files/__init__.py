"""Files clients upload straight to S3 (POST /v1/uploads, then a presigned POST), read by content when used."""
