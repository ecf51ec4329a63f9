"""Lambda, locally: each function in execution environments of its own, and the event sources that invoke it.

    function_runtime.py  FunctionRuntime: the child process that imports a handler once and runs invocations
    function_host.py     FunctionHost: one such process seen from the stack, invoked over loopback HTTP
    function_pool.py     FunctionPool: a function's environments, one invocation each, scaled out on demand
    invocation.py        Invocation and its errors: what every invoker gets back
    environment.py       a function's process environment, as Lambda sets it
    sqs_poller.py        SqsPoller: the SQS event source mapping (batches, partial failures)
    sqs_events.py        the SQS event and what a function's answer leaves queued (no I/O)
    schedule.py          Schedule: a SAM `Schedule` event, fired every interval
"""
