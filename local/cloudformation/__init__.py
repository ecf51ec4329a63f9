"""What CloudFormation does with template.yaml, locally: read it, resolve its parameters and intrinsics, create it.

    template.py     Template: template.yaml as data (functions, routes, authorizers, SQS mappings, schedules)
    intrinsics.py   Resolver: !Ref, !GetAtt, !Sub, !If ... against the stack's physical resources; parameters
    resources.py    ResourceCreator: the template's tables, queues, buckets and secrets, created on the emulation
"""
