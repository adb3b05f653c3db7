"""vitrage-collector: datasource drivers answering get_all/get_changes."""
import cotyledon

from vitrage.collector.service import CollectorService
from vitrage import service


def main() -> None:
    conf = service.prepare_service()
    manager = cotyledon.ServiceManager()
    manager.add(CollectorService, workers=conf.collector.workers,
                args=(conf,))
    manager.run()
