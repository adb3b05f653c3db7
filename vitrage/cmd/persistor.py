"""``vitrage-persistor``: write handled events and history to the database.
"""
import sys

from vitrage.cmd import console_script
from vitrage.persistor import service as persistor_service
from vitrage import service
from vitrage.storage import services


@console_script
def main(argv: list[str] | None = None) -> None:
    conf = service.prepare_service(argv)
    manager = persistor_service.build_manager(
        conf, workers=conf.persistency.workers)
    services.register_workers(manager, conf)
    manager.run()


if __name__ == '__main__':
    sys.exit(main())
