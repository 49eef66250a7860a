"""The installation check: fetch a page of a project's site and say what is right and wrong.

The page is fetched the careful way: only on one of the project's allowed domains, redirects
followed here one hop at a time and never off those domains, at most `MAX_PAGE_BYTES` read,
a time limit on the whole fetch, and the SSRF-safe transport of recording downloads
(`recordings/transport.py`): no private, loopback or otherwise non-public address, unless
the page's host is itself an allowed domain written as such an address (`127.0.0.1`,
`localhost`). The findings are judged in `domain/install_check.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from ipaddress import ip_address, ip_network
from urllib.parse import urljoin, urlsplit

import httpx

from ringtrail import __version__
from ringtrail.domain.install_check import (
    PageVerdict,
    TagVerdict,
    host_is_allowed,
    judge_page,
    read_page,
)
from ringtrail.recordings.addresses import AddressRefused, AddressRules, IPNetwork
from ringtrail.recordings.transport import GuardedTransport, Resolver, time_limit
from ringtrail.storage.models import Project

MAX_PAGE_BYTES = 2 * 1024 * 1024
MAX_REDIRECTS = 5
CONNECT_TIMEOUT_SECONDS = 5.0
READ_TIMEOUT_SECONDS = 10.0
TOTAL_SECONDS = 20.0
_LOOPBACK: tuple[IPNetwork, ...] = (ip_network("127.0.0.0/8"), ip_network("::1/128"))


class Problem(StrEnum):
    """Why no page could be judged."""

    NO_DOMAINS = "no_domains"
    BAD_URL = "bad_url"
    DOMAIN_NOT_ALLOWED = "domain_not_allowed"
    REDIRECT_OFF_DOMAIN = "redirect_off_domain"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    ADDRESS_REFUSED = "address_refused"
    TOO_BIG = "too_big"
    UNREACHABLE = "unreachable"
    HTTP_ERROR = "http_error"


@dataclass(frozen=True)
class InstallReport:
    """The outcome of a check: the page's verdict, or the problem that stopped the fetch."""

    url: str
    verdict: PageVerdict | None = None
    problem: Problem | None = None
    detail: str = ""


class _Stop(Exception):
    def __init__(self, problem: Problem, detail: str = "") -> None:
        super().__init__(detail)
        self.problem = problem
        self.detail = detail


def default_url(project: Project) -> str | None:
    """The page checked when none is given: the home page of the first allowed domain."""
    domains = project.allowed_domains or []
    if not domains:
        return None
    host = domains[0]
    scheme = "http" if _loopback_or_address(host) else "https"
    return f"{scheme}://{host}/"


def _loopback_or_address(host: str) -> bool:
    return host == "localhost" or host.endswith(".localhost") or _address_network(host) is not None


def _address_network(host: str) -> IPNetwork | None:
    try:
        return ip_network(ip_address(host.strip("[]")))
    except ValueError:
        return None


def _networks_for(host: str, allowed_domains: list[str]) -> tuple[IPNetwork, ...]:
    """The non-public networks a fetch of `host` may reach: only its own, written as a domain."""
    if host not in allowed_domains:
        return ()
    if host == "localhost" or host.endswith(".localhost"):
        return _LOOPBACK
    network = _address_network(host)
    return (network,) if network is not None else ()


def check_installation(
    project: Project,
    server_url: str,
    url: str | None = None,
    *,
    resolve: Resolver | None = None,
    max_bytes: int = MAX_PAGE_BYTES,
) -> InstallReport:
    """Fetch `url` (default: the first allowed domain's home page) and judge it."""
    domains = [d.lower() for d in project.allowed_domains or []]
    target = url or default_url(project)
    if not domains or target is None:
        return InstallReport(url or "", problem=Problem.NO_DOMAINS)
    try:
        final_url, html = _fetch(target, domains, resolve, max_bytes)
    except _Stop as stop:
        return InstallReport(target, problem=stop.problem, detail=stop.detail)
    originals = [project.main_number] if project.main_number else []
    originals += [n for n in project.replace_numbers or [] if n and n not in originals]
    verdict = judge_page(
        final_url,
        read_page(html, final_url),
        key=project.public_key,
        server_url=server_url,
        allowed_domains=domains,
        originals=originals,
    )
    return InstallReport(target, verdict=verdict)


def _fetch(
    url: str, domains: list[str], resolve: Resolver | None, max_bytes: int
) -> tuple[str, str]:
    with time_limit(TOTAL_SECONDS):
        for hop in range(MAX_REDIRECTS + 1):
            host = _checked_host(url, domains, redirected=hop > 0)
            response_url, location, body, encoding = _get(url, host, domains, resolve, max_bytes)
            if location is None:
                return response_url, body.decode(encoding or "utf-8", errors="replace")
            url = urljoin(url, location)
    raise _Stop(Problem.TOO_MANY_REDIRECTS, str(MAX_REDIRECTS))


def _checked_host(url: str, domains: list[str], *, redirected: bool) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _Stop(Problem.BAD_URL, url[:300])
    host = parts.hostname.lower().rstrip(".")
    if not host_is_allowed(host, domains):
        raise _Stop(Problem.REDIRECT_OFF_DOMAIN if redirected else Problem.DOMAIN_NOT_ALLOWED, host)
    return host


def _get(
    url: str, host: str, domains: list[str], resolve: Resolver | None, max_bytes: int
) -> tuple[str, str | None, bytes, str | None]:
    rules = AddressRules.allowing(_networks_for(host, domains))
    client = httpx.Client(
        transport=GuardedTransport(rules, resolve),
        timeout=httpx.Timeout(READ_TIMEOUT_SECONDS, connect=CONNECT_TIMEOUT_SECONDS),
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": f"Ringtrail/{__version__} (installation check)"},
    )
    try:
        with client, client.stream("GET", url) as response:
            if response.is_redirect:
                return url, response.headers.get("location", ""), b"", None
            if response.status_code >= 400:
                raise _Stop(Problem.HTTP_ERROR, str(response.status_code))
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise _Stop(Problem.TOO_BIG, str(max_bytes))
            body = bytearray()
            for chunk in response.iter_bytes():
                body.extend(chunk)
                if len(body) > max_bytes:
                    raise _Stop(Problem.TOO_BIG, str(max_bytes))
            return str(response.url), None, bytes(body), response.encoding
    except AddressRefused as exc:
        raise _Stop(Problem.ADDRESS_REFUSED, str(exc)) from exc
    except httpx.HTTPError as exc:
        raise _Stop(Problem.UNREACHABLE, f"{type(exc).__name__}: {exc}"[:300]) from exc


def N_(message: str) -> str:
    """Mark an English message for extraction; the dashboard translates it when it shows it."""
    return message


PROBLEM_TEXT: dict[Problem, str] = {
    Problem.NO_DOMAINS: N_(
        "The project has no allowed domains: add the site's domain to the project settings."
    ),
    Problem.BAD_URL: N_("%(detail)s is not an http or https address."),
    Problem.DOMAIN_NOT_ALLOWED: N_(
        "%(detail)s is not one of the project's allowed domains: the page was not fetched."
    ),
    Problem.REDIRECT_OFF_DOMAIN: N_(
        "The page redirects to %(detail)s, which is not one of the project's allowed domains."
    ),
    Problem.TOO_MANY_REDIRECTS: N_("The page redirects more than %(detail)s times."),
    Problem.ADDRESS_REFUSED: N_("The page was not fetched: %(detail)s."),
    Problem.TOO_BIG: N_("The page is larger than %(detail)s bytes: it was not read."),
    Problem.UNREACHABLE: N_("The page could not be fetched (%(detail)s)."),
    Problem.HTTP_ERROR: N_("The site answered with HTTP status %(detail)s."),
}


@dataclass(frozen=True)
class Finding:
    """One line of the check's answer: good news or not, an English message and its values."""

    ok: bool
    message: str
    values: dict[str, str]

    def english(self) -> str:
        """The line in English (the CLI prints it)."""
        return self.message % self.values if self.values else self.message


def findings(report: InstallReport) -> list[Finding]:
    """The check's answer as sentences, in the order a person reads them."""
    if report.verdict is None:
        problem = report.problem or Problem.UNREACHABLE
        return [Finding(False, PROBLEM_TEXT[problem], {"detail": report.detail})]
    verdict = report.verdict
    lines = [Finding(True, N_("Fetched %(url)s."), {"url": verdict.url})]
    host = urlsplit(verdict.url).hostname or ""
    if verdict.domain_allowed:
        lines.append(Finding(True, N_("%(host)s is an allowed domain."), {"host": host}))
    else:
        lines.append(
            Finding(False, N_("%(host)s is not one of the allowed domains."), {"host": host})
        )
    src = verdict.tag_found.src if verdict.tag_found else ""
    key = (verdict.tag_found.key if verdict.tag_found else None) or ""
    tag_lines = {
        TagVerdict.OK: (
            True,
            N_("The tracking tag is there, with this project's key and this server's address."),
        ),
        TagVerdict.WRONG_KEY: (
            False,
            N_(
                "The tracking tag is there but carries another key (%(key)s): "
                "copy the tag again from the dashboard."
            ),
        ),
        TagVerdict.OTHER_SERVER: (
            False,
            N_(
                "The tracking tag loads the script from another server (%(src)s): "
                "copy the tag again from the dashboard."
            ),
        ),
        TagVerdict.MISSING: (
            False,
            N_("No tracking tag on this page: paste the tag into the head of every page."),
        ),
    }
    ok, message = tag_lines[verdict.tag]
    lines.append(Finding(ok, message, {"key": key or "—", "src": src or "—"}))
    for number in verdict.numbers:
        if number.found:
            lines.append(
                Finding(
                    True,
                    N_("%(number)s is on the page: it will be swapped."),
                    {"number": number.number},
                )
            )
        else:
            lines.append(
                Finding(
                    False,
                    N_("%(number)s is not on the page as text: nothing will be swapped for it."),
                    {"number": number.number},
                )
            )
    if not verdict.numbers:
        lines.append(
            Finding(
                False,
                N_(
                    "The project has no main number: "
                    "set the number your site shows, or nothing is swapped."
                ),
                {},
            )
        )
    return lines
