"""A bad configuration stops a command at once with one clear line."""
import pytest

from vitrage.cmd import console_script
from vitrage.common import exceptions
from vitrage import service


def test_bad_value_is_named_at_start(tmp_path, conf):
    bad = tmp_path / 'bad.conf'
    bad.write_text('[api]\nport = notaport\n')
    with pytest.raises(exceptions.ConfigError, match=r'\[api\] port'):
        service.prepare_service(['--config-file', str(bad)], conf=conf,
                                setup_logging=False)


def test_unknown_datasource_is_named(tmp_path, conf):
    bad = tmp_path / 'bad.conf'
    bad.write_text('[datasources]\ntypes = static,nosuch\n')
    with pytest.raises(exceptions.ConfigError, match="'nosuch'"):
        service.prepare_service(['--config-file', str(bad)], conf=conf,
                                setup_logging=False)


def test_console_script_exits_2_with_one_line(capsys):
    @console_script
    def main():
        raise exceptions.ConfigError('[x] y: broken')
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.strip().endswith('configuration error: [x] y: broken')
    assert 'Traceback' not in err
