"""API Gateway's HTTP API (and Lambda Function URLs), locally.

    gateway.py      Gateway and GatewayServer: route, authorize, invoke, map the response; the loopback server
    routes.py       RouteTable: the template's declared routes, most specific first (FunctionUrlRoutes: one function)
    authorizer.py   LambdaAuthorizer: the REQUEST authorizer, its identity check and result cache
    http_events.py  payload format 2.0: requests to events, results to responses (no I/O)
    console_site.py ConsoleSite: the console's static files under /console/, as CloudFront serves them from S3
"""
