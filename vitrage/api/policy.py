"""Access policy of the REST API, in code, with oslo.policy.

Every routed endpoint (Flask endpoint name ``<blueprint>.<function>``)
maps to one rule in :data:`ENDPOINT_RULES`; the application enforces it
before the view runs (:func:`enforce_endpoint`), so controllers carry no
policy code. Requests asking for ``all_tenants`` are checked again
against ``<rule>:all_tenants`` (:func:`enforce_all_tenants`, called by
:func:`vitrage.api.request.context`).

Defaults follow OpenStack's secure RBAC defaults: reading is open to
any authenticated caller; what changes every tenant's view (adding and
deleting templates) needs an admin; posting events (a host down marks
every instance on it) needs an admin or the ``service`` role of the
monitors that post them; ``all_tenants`` needs an admin. An admin has
role ``admin`` (roles come from ``X-Roles`` alone, never from the user
name), or is the identity-less caller of ``noauth`` mode.
:data:`RELAXED_RULES` lists the rules of earlier releases, which a
policy file may restore (doc/source/admin/policy.rst). A policy file
(``[oslo_policy] policy_file``, default ``policy.yaml`` found next to
the configuration files) overrides any rule;
``oslopolicy-sample-generator --namespace vitrage`` writes a sample.
"""
import logging
import threading

from oslo_config import cfg
from oslo_policy import policy

LOG = logging.getLogger(__name__)

ADMIN_RULE = 'context_is_admin'
SERVICE_RULE = 'service_api'
ANY_RULE = 'default'
ADMIN_OR_SERVICE = 'rule:%s or rule:%s' % (ADMIN_RULE, SERVICE_RULE)
ALL_TENANTS_SUFFIX = ':all_tenants'

PUBLIC_ENDPOINTS = frozenset(('root.versions', 'root.healthcheck'))
"""Endpoints outside authentication and policy (``/``, ``/healthcheck``)."""

ENDPOINT_RULES: dict[str, str] = {
    'topology.get_topology': 'topology:get',
    'resources.list_resources': 'resource:list',
    'resources.list_resources_by_query_string': 'resource:list',
    'resources.count_resources': 'resource:count',
    'resources.show_resource': 'resource:show',
    'alarm.list_alarms': 'alarm:list',
    'alarm.show_alarm': 'alarm:show',
    'alarm.count_alarms': 'alarm:count',
    'alarm.alarm_history': 'alarm:history',
    'rca.show_rca': 'rca:show',
    'template.list_templates': 'template:list',
    'template.template_versions': 'template:versions',
    'template.show_template': 'template:show',
    'template.validate_templates': 'template:validate',
    'template.add_templates': 'template:add',
    'template.delete_templates': 'template:delete',
    'event.post_event': 'event:post',
    'webhook.add_webhook': 'webhook:add',
    'webhook.list_webhooks': 'webhook:list',
    'webhook.show_webhook': 'webhook:show',
    'webhook.delete_webhook': 'webhook:delete',
    'service.list_services': 'service:list',
    'status.get_status': 'status:get',
}
"""Flask endpoint name -> policy rule."""

_DESCRIPTIONS: dict[str, str] = {
    'topology:get': 'Show the entity graph (topology show).',
    'resource:list': 'List resources.',
    'resource:count': 'Count resources.',
    'resource:show': 'Show one resource.',
    'alarm:list': 'List active alarms.',
    'alarm:show': 'Show one alarm.',
    'alarm:count': 'Count active alarms by severity.',
    'alarm:history': 'List the alarm history.',
    'rca:show': 'Show the root cause analysis of an alarm.',
    'template:list': 'List templates.',
    'template:versions': 'List the supported template versions.',
    'template:show': 'Show one template.',
    'template:validate': 'Validate templates without storing them.',
    'template:add': 'Add templates.',
    'template:delete': 'Delete templates.',
    'event:post': 'Post an external event (e.g. from Alertmanager).',
    'webhook:add': 'Register a webhook.',
    'webhook:list': 'List webhooks.',
    'webhook:show': 'Show one webhook.',
    'webhook:delete': 'Delete a webhook.',
    'service:list': 'List the running Vitrage processes.',
    'status:get': 'Ask whether vitrage-graph is ready.',
}

# rule name -> (method, path) of the operation, for the documentation.
_OPERATIONS: dict[str, list[tuple[str, str]]] = {
    'topology:get': [('POST', '/v1/topology/')],
    'resource:list': [('POST', '/v1/resources/'), ('GET', '/v1/resources/')],
    'resource:count': [('POST', '/v1/resources/count/')],
    'resource:show': [('GET', '/v1/resources/{vitrage_id}')],
    'alarm:list': [('GET', '/v1/alarm/')],
    'alarm:show': [('GET', '/v1/alarm/{vitrage_id}')],
    'alarm:count': [('GET', '/v1/alarm/count/')],
    'alarm:history': [('GET', '/v1/alarm/history/')],
    'rca:show': [('GET', '/v1/rca/'), ('GET', '/v1/rca/{alarm_id}')],
    'template:list': [('GET', '/v1/template/')],
    'template:versions': [('GET', '/v1/template/versions')],
    'template:show': [('GET', '/v1/template/{uuid_or_name}')],
    'template:validate': [('POST', '/v1/template/')],
    'template:add': [('PUT', '/v1/template/')],
    'template:delete': [('DELETE', '/v1/template/')],
    'event:post': [('POST', '/v1/event/')],
    'webhook:add': [('POST', '/v1/webhook/')],
    'webhook:list': [('GET', '/v1/webhook/')],
    'webhook:show': [('GET', '/v1/webhook/{id}')],
    'webhook:delete': [('DELETE', '/v1/webhook/{id}')],
    'service:list': [('GET', '/v1/service/')],
    'status:get': [('GET', '/v1/status/')],
}

_DEFAULTS: dict[str, str] = {
    'template:add': 'rule:%s' % ADMIN_RULE,
    'template:delete': 'rule:%s' % ADMIN_RULE,
    'event:post': ADMIN_OR_SERVICE,
}
"""Operations whose default is not ``""`` (any authenticated caller)."""

RELAXED_RULES: dict[str, str] = {
    'template:add': '',
    'template:delete': '',
    'event:post': '',
}
"""The defaults of earlier releases for the rules :data:`_DEFAULTS`
tightened: a policy file holding these restores the old behaviour."""

ALL_TENANTS_RULES = ('topology:get', 'resource:list', 'resource:count',
                     'alarm:list', 'alarm:count', 'alarm:history',
                     'rca:show', 'webhook:list')
"""Operations that accept ``all_tenants``."""


def list_rules() -> list[policy.RuleDefault]:
    """Every default rule (entry point ``oslo.policy.policies``)."""
    rules: list[policy.RuleDefault] = [
        policy.RuleDefault(
            ADMIN_RULE,
            'role:admin or noauth_admin:True',
            description='Who is an administrator: role admin, or (noauth '
                        'mode) a caller sending no identity headers.'),
        policy.RuleDefault(
            SERVICE_RULE, 'role:service',
            description='Services and monitors that post events (e.g. '
                        'the Alertmanager user of Basic authentication).'),
        policy.RuleDefault(
            ANY_RULE, '',
            description='Any caller the auth middleware let in; the rule '
                        'of an endpoint that has none of its own.'),
    ]
    for name, operations in _OPERATIONS.items():
        ops = [{'method': m, 'path': p} for m, p in operations]
        description = _DESCRIPTIONS[name]
        if name in RELAXED_RULES:
            description += (' Earlier releases allowed any caller '
                            '("%s").' % RELAXED_RULES[name])
        rules.append(policy.DocumentedRuleDefault(
            name, _DEFAULTS.get(name, ''), description, ops))
        if name in ALL_TENANTS_RULES:
            rules.append(policy.DocumentedRuleDefault(
                name + ALL_TENANTS_SUFFIX, 'rule:%s' % ADMIN_RULE,
                '%s With all_tenants=true: every project\'s data.'
                % _DESCRIPTIONS[name], ops))
    return rules


class Forbidden(Exception):
    """The policy denies ``rule`` to the caller."""

    def __init__(self, rule: str) -> None:
        super().__init__("Policy doesn't allow %s to be performed" % rule)
        self.rule = rule


class Policy:
    """The enforcer of one application.

    :param conf: the configuration; ``[oslo_policy]`` is registered on it.
    """

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.enforcer = policy.Enforcer(conf)
        self.enforcer.register_defaults(list_rules())
        self._lock = threading.Lock()

    def check(self, rule: str, creds: dict, target: dict | None = None
              ) -> None:
        """Enforce ``rule``.

        :param rule: a registered rule name.
        :param creds: the caller (:func:`vitrage.api.request.identity`).
        :param target: what is acted on (defaults to the caller's project).
        :raises Forbidden: the rule does not allow it.
        """
        if target is None:
            target = {'project_id': creds.get('project_id')}
        # load_rules() reloads a changed policy file; not thread-safe.
        with self._lock:
            try:
                self.enforcer.load_rules()
            except cfg.NotInitializedError:
                # A configuration that parsed no command line (embedded
                # use, tests) has no directory to find a policy file in.
                # The defaults alone apply.
                registered = self.enforcer.registered_rules
                self.enforcer.set_rules(
                    policy.Rules({name: default.check
                                  for name, default in registered.items()},
                                 ANY_RULE),
                    overwrite=True, use_conf=False)
        allowed = self.enforcer.enforce(rule, target, creds)
        if not allowed:
            LOG.info('policy %s denied to user %s of project %s', rule,
                     creds.get('user_id'), creds.get('project_id'))
            raise Forbidden(rule)


def rule_of(endpoint: str | None) -> str | None:
    """The policy rule of a Flask endpoint; None for public ones.

    An endpoint missing from :data:`ENDPOINT_RULES` gets ``default``
    (a unit test keeps the table complete).
    """
    if endpoint is None or endpoint in PUBLIC_ENDPOINTS:
        return None
    rule = ENDPOINT_RULES.get(endpoint)
    if rule is None:
        LOG.warning('endpoint %s has no policy rule; using %s',
                    endpoint, ANY_RULE)
        return ANY_RULE
    return rule


def get_enforcer() -> policy.Enforcer:
    """The enforcer for the oslo.policy command line tools (entry point
    ``oslo.policy.enforcer``): reads the usual Vitrage config files.
    """
    conf = cfg.ConfigOpts()
    conf([], project='vitrage')
    return Policy(conf).enforcer
