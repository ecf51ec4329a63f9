"""Where a 1 MB submit's client time goes: the gateway's handle vs the function invocation vs the handler."""
import statistics, time, threading
import httpx
from local.stack import LoopbackStack
from local.load.generator import open_account
from scripts.bench import PROMPT, edit_files, png_of_bytes
from local.api_gateway import gateway as gw
from local.lambdas import function_host as fh

marks = {"handle": [], "invoke": [], "post": []}
orig_handle = gw.Gateway.handle
def handle(self, request):
    t = time.perf_counter(); r = orig_handle(self, request); marks["handle"].append(time.perf_counter() - t); return r
gw.Gateway.handle = handle
orig_invoke = fh.FunctionHost.invoke
def invoke(self, event, *a, **k):
    t = time.perf_counter(); r = orig_invoke(self, event, *a, **k)
    marks.setdefault("invoke:"+self.spec.logical_id, []).append(time.perf_counter() - t)
    return r
fh.FunctionHost.invoke = invoke

with LoopbackStack(port=0, provider_delay=0.0, quiet=True, log_path=__import__("pathlib").Path("/tmp/exp/stack.log")) as stack:
    account = open_account(stack, credit_micros=10**9)
    image = png_of_bytes(1_000_000, 1)
    with httpx.Client(base_url=stack.base_url, headers={"Authorization": f"Bearer {account.api_key}"}, timeout=60) as c:
        times = []
        for i in range(25):
            [v.clear() for v in marks.values()] if i < 5 else None
            t = time.perf_counter()
            r = c.post("/v1/images/edits", files=edit_files(image), data={"model": "gpt-image-2", "prompt": PROMPT})
            times.append(time.perf_counter() - t)
            assert r.status_code == 202, r.text
            time.sleep(0.3)
    times = times[5:]
    print("client p50 ms", round(statistics.median(times) * 1000, 1))
    for k, v in marks.items():
        if v: print(k, "p50 ms", round(statistics.median(v) * 1000, 1), len(v))
