"""The AWS the functions talk to: moto's server in a child process, taught to behave as AWS where moto does not.

    moto_server.py          MotoServer: moto's ThreadedMotoServer on loopback, with the patches below installed
    dynamodb_atomicity.py   each DynamoDB request atomic; cancelled transactions undone; ClientRequestToken
    dynamodb_contention.py  TransactionConflict while a transaction holds its items
    s3_post_policy.py       presigned POST uploads checked against their signed policy
    s3_copy_conditions.py   a copy conditioned on its source's ETag (CopySourceIfMatch) refused when it changed
    sqs_faults.py           a SendMessage held on a test's request (a function dying mid-send)
    sqs_fair_queues.py      standard queues deliver fairly across tenants (MessageGroupId), as SQS fair queues do
    cognito_codes.py        sign-up codes made, e-mailed and checked (CodeMismatchException), as Cognito does
    email_capture.py        the e-mails moto's SES holds, served at /moto-api/retouch/emails (and read by tests)
    dispatch_cache.py       each host name's service found once (moto looked it up again on every request)
    limits.py               AWS's hard limits the runtime enforces (payload sizes, integration timeout)

The patch modules reach into moto's internals (private methods and backend attributes), which change between
releases. They were written against moto MOTO_VERSION, requirements-dev.txt pins exactly that version, and
tests/unit/local/test_local_moto_pin.py fails when the installed moto is another one. To move to another moto:
re-read each patch against its internals, run tests/integration/local, then change the pin and MOTO_VERSION together.
"""

# The moto release the patches were written against (and the one requirements-dev.txt pins).
MOTO_VERSION = "5.2.6"
# Key id and secret of every credential the emulation sees; S3 POST signatures are checked with it.
LOCAL_CREDENTIAL = "testing"
