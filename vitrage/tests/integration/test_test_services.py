"""The integration fixtures reach the real RabbitMQ and MariaDB servers."""
import threading

import oslo_messaging
import sqlalchemy

from vitrage.tests import helpers
from vitrage.tests.integration import services


def _database_names(server_url: str) -> set[str]:
    engine = sqlalchemy.create_engine(server_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sqlalchemy.text('SHOW DATABASES'))
            return {row[0] for row in rows}
    finally:
        engine.dispose()


def test_mysql_database_is_usable(mysql_database, mysql_server_url):
    engine = sqlalchemy.create_engine(mysql_database)
    try:
        with engine.begin() as connection:
            connection.execute(sqlalchemy.text(
                'CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20))'))
            connection.execute(sqlalchemy.text(
                "INSERT INTO t VALUES (1, 'h\u00f4te')"))
        with engine.connect() as connection:
            rows = connection.execute(sqlalchemy.text('SELECT * FROM t'))
            assert rows.all() == [(1, 'h\u00f4te')]
    finally:
        engine.dispose()
    name = sqlalchemy.engine.make_url(mysql_database).database
    assert name in _database_names(mysql_server_url)


def test_database_is_dropped(mysql_server_url):
    name = helpers.unique_name('vitrage_test')
    services.create_database(mysql_server_url, name)
    assert name in _database_names(mysql_server_url)
    services.drop_database(mysql_server_url, name)
    assert name not in _database_names(mysql_server_url)


class _Endpoint:
    def __init__(self) -> None:
        self.received: list = []
        self.event = threading.Event()

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        self.received.append((publisher_id, event_type, payload))
        self.event.set()
        return oslo_messaging.NotificationResult.HANDLED


def test_notification_round_trip_over_rabbitmq(conf, rabbit_transport_url,
                                               unique_topic):
    transport = oslo_messaging.get_notification_transport(
        conf, url=rabbit_transport_url)
    endpoint = _Endpoint()
    listener = oslo_messaging.get_notification_listener(
        transport, [oslo_messaging.Target(topic=unique_topic)], [endpoint],
        executor='threading')
    listener.start()
    try:
        notifier = oslo_messaging.Notifier(
            transport, publisher_id='test', driver='messagingv2',
            topics=[unique_topic])
        notifier.info({}, 'vitrage.test', {'n': 1})
        assert endpoint.event.wait(30), 'no notification within 30 s'
        assert endpoint.received == [('test', 'vitrage.test', {'n': 1})]
    finally:
        listener.stop()
        listener.wait()
        transport.cleanup()
