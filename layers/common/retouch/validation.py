"""Where a job is validated: every check a submit passes, in the order they run (POST /v1/images/edits and
/generations, retouch.web.routes.images._submitted). Each refusal is a typed RetouchError (4xx, OpenAI error body)
raised before anything is written; the modules below own the rules, this map only says where they are.
tests/unit/test_validation_map.py finds every check reachable from the two routes and fails on one not named here.

1. Caller        retouch.billing.rate_limit.admit
                 account exists and is active, key not revoked, under the per-minute limit (401 / 429);
                 the account as read here is the credit check's first read (Admission.account).
2. Request shape retouch.web.request_parsing.parse_edit, retouch.web.request_parsing.parse_generation
                 body size, content type, JSON or multipart (retouch.web.multipart.parse_multipart), unknown and
                 unsupported parameters, the model known (400/413/415).
3. Model rules   retouch.models.requests.ImageOptions, retouch.models.requests.EditRequest
                 field types and the model's limits from the catalog: prompt length, n, size, quality, image count
                 (run by the parser above; their ValueError becomes a 400 naming the parameter).
3b. Holds        retouch.jobs.holds.HeldRequests.holding (the synchronous entry, a request that will wait or stream;
                 a stream keeps its hold until it ends) the account's requests held open at once, under
                 SyncHoldsPerAccount (429 sync_hold_limit_exceeded).
4. Key           retouch.jobs.idempotency.checked_key (via retouch.jobs.idempotency.keyed_request)
                 the Idempotency-Key's form (400).
5. Key's holder  retouch.jobs.idempotency.once, retouch.jobs.idempotency._earlier_job,
                 retouch.jobs.idempotency.replayed_job
                 a key used for another request is 422; one whose request is still in flight is 409 after a short
                 wait; a repeat replays the first job, 404 if it was deleted.
6. Upstreams     retouch.routing.support.UpstreamSupport.check
                 at least one of the model's routed upstreams can serve the request as asked (image count, mask,
                 options), by each one's documented capabilities; else 400 `unsupported_by_upstream`.
7. Inputs        retouch.jobs.request_checks.check_request (steps 6-8, in this order),
                 retouch.images.input_checks.image_url_input, retouch.images.input_checks.decode_data_url,
                 retouch.images.input_checks.check_image, retouch.files.edit_inputs.file_input,
                 retouch.images.input_checks.check_mask
                 each image read by content (format, dimensions, bytes), the mask against the first image,
                 uploaded files (ready, this account's, not expired); http(s) image URLs only by form here.
8. Webhook       retouch.webhooks.subscribe.WebhookSubscriber (its __call__), retouch.webhooks.subscribe.vet_webhook_url
                 events need a URL, the account needs a signing secret, and the URL is vetted against SSRF (400).
                 Input image URLs are vetted when the worker fetches them (retouch.outbound_http.url_fetch.fetch_url),
                 which ends the job `failed`, not a 4xx.
9. Credit        retouch.billing.charges.JobBilling.precheck, then retouch.billing.charges.JobBilling.reserve
                 the price against the balance and the in-flight limit (402 / 429) before any input is stored;
                 the hold (one conditional update of the account) is what guarantees it. A job for an end user
                 first holds on that end user, within its limits, and on its device token, within its cap
                 (retouch.billing.end_user_quotas.EndUserQuotas.hold, refusing by name with
                 retouch.billing.end_user_quotas._refusal: 429 `end_user_limit_exceeded`,
                 `client_token_spend_cap_exceeded`; the end user named by retouch.web.end_user.request_end_user,
                 400/403 on a mismatch).

A quote (POST /v1/images/quote, retouch.jobs.quote.quote_request) runs steps 2, 3 and 6-8 on the same body with the
same functions (retouch.web.request_parsing.parse_quote, retouch.models.quotes.QuoteRequest), so it answers the same
400s; an image it declares by size alone meets what a size can be checked for
(retouch.images.input_checks.declared_image_rules, retouch.images.input_checks.declared_mask_rules). It is counted
as a read (1), and neither holds nor checks credit (9) nor takes an Idempotency-Key (4, 5).

After acceptance the worker checks the stored inputs again (retouch.jobs.inputs_loading.load_inputs) with the same
rules, since a file can be deleted or a URL can answer anything.
"""
