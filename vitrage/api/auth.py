"""HTTP Basic authentication of ``POST /v1/event`` in ``keystone`` mode.

Alertmanager and similar senders cannot obtain Keystone tokens; they may
post events with ``Authorization: Basic base64(user:password)`` instead
(rest-api-v1.md 1.5). The credentials are checked against Keystone
(:func:`keystone_login`, keystoneauth1's v3 password plugin: user domain
``[api] basic_auth_user_domain``, optional project scope ``[api]
basic_auth_project``); on success the request goes on with the identity
headers of that user, exactly as keystonemiddleware would have set them,
and never reaches the token middleware. A request with an
``X-Auth-Token`` keeps the token path.
"""
import base64
import binascii
from collections.abc import Callable
import dataclasses
import logging
from typing import Any

from oslo_config import cfg

from vitrage.api import errors

LOG = logging.getLogger(__name__)

BASIC_PATHS = frozenset(('/v1/event',))
"""Paths (without trailing slash, after the URL prefix) accepting Basic."""

REALM = 'vitrage'

_IDENTITY_HEADERS = ('HTTP_X_USER_ID', 'HTTP_X_USER', 'HTTP_X_PROJECT_ID',
                     'HTTP_X_TENANT_ID', 'HTTP_X_ROLES', 'HTTP_X_USER_NAME',
                     'HTTP_X_IDENTITY_STATUS', 'HTTP_X_SERVICE_ROLES')


class LoginFailed(Exception):
    """Keystone refused the credentials (or could not be asked)."""


@dataclasses.dataclass(frozen=True)
class KeystoneIdentity:
    """Who Keystone says the caller is."""

    user_id: str
    user_name: str
    project_id: str | None
    roles: tuple[str, ...]


def keystone_login(conf: cfg.ConfigOpts, username: str,
                   password: str) -> KeystoneIdentity:
    """Check a user name and password with Keystone.

    :param conf: ``[api] basic_auth_*`` and ``[keystone_authtoken]``.
    :param username: the user's name.
    :param password: the user's password.
    :returns: the user's identity (and roles when scoped to a project).
    :raises LoginFailed: the credentials are wrong, or Keystone did not
        answer.
    """
    from keystoneauth1 import exceptions as ks_exceptions
    from keystoneauth1.identity import v3
    from keystoneauth1 import session as ks_session
    url = conf.api.basic_auth_keystone_url or _authtoken_uri(conf)
    if not url:
        raise LoginFailed('no Keystone URL: set [api] '
                          'basic_auth_keystone_url')
    kwargs: dict[str, Any] = {
        'auth_url': url, 'username': username, 'password': password,
        'user_domain_name': conf.api.basic_auth_user_domain}
    if conf.api.basic_auth_project:
        kwargs['project_name'] = conf.api.basic_auth_project
        kwargs['project_domain_name'] = conf.api.basic_auth_project_domain
    plugin = v3.Password(**kwargs)
    try:
        access = plugin.get_auth_ref(ks_session.Session())
    except ks_exceptions.ClientException as exc:
        raise LoginFailed(str(exc)) from exc
    return KeystoneIdentity(access.user_id, access.username,
                            access.project_id,
                            tuple(access.role_names or ()))


def _authtoken_uri(conf: cfg.ConfigOpts) -> str | None:
    try:
        return conf.keystone_authtoken.www_authenticate_uri
    except (cfg.NoSuchOptError, cfg.NoSuchGroupError):
        return None


def parse_basic(header: str) -> tuple[str, str] | None:
    """The ``(user, password)`` of a Basic ``Authorization`` header.

    :returns: None when the header is not of the Basic scheme.
    :raises ValueError: a Basic header that does not decode.
    """
    scheme, _, value = header.strip().partition(' ')
    if scheme.lower() != 'basic':
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True)
        text = decoded.decode('utf-8')
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError('malformed Basic credentials: %s' % exc)
    user, sep, password = text.partition(':')
    if not sep or not user:
        raise ValueError('malformed Basic credentials: no user:password')
    return user, password


class BasicAuth:
    """WSGI dispatcher: Basic credentials on :data:`BASIC_PATHS`, the
    token middleware (``protected``) for everything else.

    :param conf: the configuration.
    :param app: the application behind authentication.
    :param protected: ``app`` behind keystonemiddleware.
    :param login: checks credentials (default :func:`keystone_login`).
    """

    def __init__(self, conf: cfg.ConfigOpts, app: Callable,
                 protected: Callable,
                 login: Callable[..., KeystoneIdentity] | None = None
                 ) -> None:
        self.conf = conf
        self.app = app
        self.protected = protected
        self.login = login

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        path = environ.get('PATH_INFO', '').rstrip('/')
        header = environ.get('HTTP_AUTHORIZATION', '')
        if (path not in BASIC_PATHS or environ.get('HTTP_X_AUTH_TOKEN')
                or not header):
            return self.protected(environ, start_response)
        try:
            credentials = parse_basic(header)
        except ValueError as exc:
            return _unauthorized(start_response, str(exc))
        if credentials is None:
            return self.protected(environ, start_response)
        login = self.login or keystone_login
        try:
            identity = login(self.conf, *credentials)
        except LoginFailed as exc:
            LOG.info('Basic authentication of %r failed: %s',
                     credentials[0], exc)
            return _unauthorized(start_response,
                                 'The credentials were refused')
        for key in _IDENTITY_HEADERS:
            environ.pop(key, None)
        environ['HTTP_X_IDENTITY_STATUS'] = 'Confirmed'
        environ['HTTP_X_USER_ID'] = identity.user_id
        environ['HTTP_X_USER_NAME'] = identity.user_name
        environ['HTTP_X_ROLES'] = ','.join(identity.roles)
        if identity.project_id:
            environ['HTTP_X_PROJECT_ID'] = identity.project_id
        environ.pop('HTTP_AUTHORIZATION', None)
        return self.app(environ, start_response)


def _unauthorized(start_response: Callable, detail: str) -> list[bytes]:
    body = errors.json_body(401, 'Authentication required', detail)
    start_response('401 Unauthorized', [
        ('Content-Type', 'application/json'),
        ('Content-Length', str(len(body))),
        ('WWW-Authenticate', 'Basic realm="%s"' % REALM)])
    return [body]
