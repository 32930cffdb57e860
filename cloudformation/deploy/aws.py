"""The AWS edge of the deploy: clients, the credential check and parameter look-ups.

boto3 and botocore ship no type information, so clients are ``Any`` here (mypy is told
to ignore the missing stubs in pyproject).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

Client = Any
RETRIES = Config(retries={"max_attempts": 8, "mode": "adaptive"})
"""Stack event polling is chatty; adaptive retries absorb CloudFormation throttling."""


class DeployError(Exception):
    """The deploy or destroy cannot go on; the message is one line for the user."""


@dataclass(frozen=True)
class Identity:
    account: str
    arn: str
    region: str


class Aws:
    """One boto3 session for one region, optionally against another endpoint (moto)."""

    def __init__(self, region: str | None, endpoint_url: str | None = None) -> None:
        self._session = boto3.session.Session(region_name=region)
        self._endpoint_url = endpoint_url
        self.region: str | None = self._session.region_name

    def client(self, service: str) -> Client:
        return self._session.client(service, endpoint_url=self._endpoint_url, config=RETRIES)

    def identity(self) -> Identity:
        """Who we are, checked before anything else; DeployError with one line if not."""
        if not self.region:
            raise DeployError("no AWS region: pass --region (make deploy REGION=eu-west-1)")
        try:
            found = self.client("sts").get_caller_identity()
        except NoCredentialsError:
            raise DeployError(
                "no AWS credentials: set AWS_PROFILE (aws sso login) or AWS_ACCESS_KEY_ID"
                " and AWS_SECRET_ACCESS_KEY"
            ) from None
        except NoRegionError:
            raise DeployError("no AWS region: pass --region") from None
        except (ClientError, BotoCoreError) as exc:
            raise DeployError(f"AWS credentials rejected: {exc}") from None
        return Identity(found["Account"], found["Arn"], self.region)


def lattice_prefix_lists(ec2: Client, region: str) -> tuple[str, str]:
    """The ids of the VPC Lattice managed prefix lists (IPv4, IPv6) of ``region``."""
    names = (f"com.amazonaws.{region}.vpc-lattice", f"com.amazonaws.{region}.ipv6.vpc-lattice")
    found = ec2.describe_managed_prefix_lists(
        Filters=[{"Name": "prefix-list-name", "Values": list(names)}]
    )["PrefixLists"]
    by_name = {entry["PrefixListName"]: entry["PrefixListId"] for entry in found}
    missing = [name for name in names if name not in by_name]
    if missing:
        raise DeployError(f"no managed prefix list {', '.join(missing)} in {region}")
    return by_name[names[0]], by_name[names[1]]
