"""Where a job is validated: the checks a submit passes, in the order they run (POST /v1/images/edits and
/generations, web/routes/images.py `_submitted`). Each refusal is a typed RetouchError (4xx, OpenAI error body)
raised before anything is written; the modules below own the rules, this map only says where they are.

1. Caller        retouch.billing.rate_limit.admit
                 account exists and is active, key not revoked, under the per-minute limit (401 / 429);
                 the account as read here is the credit check's first read (Admission.account).
2. Request shape retouch.web.request_parsing.parse_edit, retouch.web.request_parsing.parse_generation
                 body size, content type, JSON or multipart, unknown/unsupported parameters (400/413/415).
3. Model rules   retouch.models.requests.ImageOptions, retouch.models.requests.EditRequest
                 field types and the model's limits from the catalog: prompt length, n, size, quality, image count.
4. Key           retouch.jobs.idempotency.keyed_request
                 the Idempotency-Key's form; a reused key with another request is 422.
5. Inputs        retouch.images.input_checks.check_image, retouch.images.input_checks.check_mask,
                 retouch.images.input_checks.decode_data_url, retouch.files.edit_inputs.file_input
                 each image read by content (format, dimensions, bytes), the mask against the first image,
                 uploaded files (ready, this account's, not expired); http(s) image URLs only by form here.
6. URLs          retouch.webhooks.subscribe.vet_webhook_url (via retouch.webhooks.subscribe.WebhookSubscriber)
                 the webhook URL vetted against SSRF at submit; input image URLs are vetted when the worker
                 fetches them (retouch.outbound_http.url_fetch.fetch_url), which ends the job `failed`, not a 4xx.
7. Credit        retouch.billing.charges.JobBilling.precheck, then retouch.billing.charges.JobBilling.reserve
                 the price against the balance and the in-flight limit (402 / 429) before any input is stored;
                 the reservation's transaction is what guarantees it.

After acceptance the worker checks the stored inputs again (retouch.jobs.inputs_loading.load_inputs) with the same
rules, since a file can be deleted or a URL can answer anything.
"""
