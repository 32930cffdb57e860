"""``make deploy`` / ``make destroy`` with boto3 (no AWS CLI): change sets in dependency
order with live stack events, images pushed with docker buildx, outputs as paste-ready
grpcurl and curl commands; and the reverse, ECR repositories emptied first.

``python -m cloudformation.deploy deploy|destroy --environment dev --region eu-west-1``
"""
