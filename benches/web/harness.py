"""The Python half of load.sh and scale_out.sh: what is awkward in bash.

Standard library only (it runs on the machine's python3, not the Flask venv).

    harness.py free-port
        A free TCP port on 127.0.0.1.
    harness.py names N FILE
        N seed names, one a line (seed-0000001 ...), for `people import`.
    harness.py count DB
        SELECT count(*) FROM person.
    harness.py meta KEY=VALUE...
        The pairs as one JSON object (for the reports' "meta").
    harness.py measure --results FILE --db DB --base-rows N --nonce NONCE...
                       [--label KEY=VALUE]... --run SERVER=WRK_OUTPUT...
        After a cell: reads each wrk output's `wrk-result` line, waits until
        the row count stops moving, then checks the table against what wrk
        saw (see check_rows) and appends one JSON record per run to FILE.
        Prints the check line; exits 10 if the check failed.
    harness.py report --results FILE [--json OUT] [--meta JSON]
        The load.sh table (markdown) and one line per check; exits 1 if a
        check failed or a cell had errors.
    harness.py scale-report --results FILE [--json OUT] [--meta JSON]
        The same for scale_out.sh's two servers.

DB is a SQLite file path or a postgres:// URL (read with psql).
"""

import argparse
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time

# measure's exit status when the check failed (any other non-zero is a crash).
CHECK_FAILED = 10
WORKLOADS = ('get_by_id', 'page_numbered', 'page_keyset', 'post', 'mixed')


# --- the database ---------------------------------------------------------------

class Database:
    """Just enough SQL for the checks, on SQLite (sqlite3 module) or PostgreSQL (psql)."""

    def __init__(self, target):
        self.target = target
        self.postgres = target.startswith(('postgres://', 'postgresql://'))

    def scalar(self, sql):
        if self.postgres:
            out = subprocess.run(['psql', '-X', '-At', '-v', 'ON_ERROR_STOP=1', self.target, '-c', sql],
                                 check=True, capture_output=True, text=True).stdout
            return out.strip()
        # A fresh connection each time: a reader that stays open would keep
        # the server's WAL from being checkpointed.
        connection = sqlite3.connect(self.target, timeout=30)
        try:
            return connection.execute(sql).fetchone()[0]
        finally:
            connection.close()

    def count(self):
        return int(self.scalar('SELECT count(*) FROM person'))

    def count_named(self, names):
        """How many of these names are in the table."""
        found = 0
        names = sorted(names)
        for start in range(0, len(names), 500):
            chunk = names[start:start + 500]
            literals = ','.join(quote(name) for name in chunk)
            found += int(self.scalar('SELECT count(*) FROM person WHERE name IN (%s)' % literals))
        return found

    def count_prefixed(self, prefix):
        return int(self.scalar("SELECT count(*) FROM person WHERE name LIKE %s" % quote(prefix + '%')))

    def integrity(self):
        if self.postgres:
            return None   # PostgreSQL has no integrity_check; the row counts still hold
        return str(self.scalar('PRAGMA integrity_check'))


def quote(text):
    return "'" + text.replace("'", "''") + "'"


def settle(db, quiet_s=1.0, interval_s=0.2, timeout_s=30.0):
    """The row count once it has not moved for quiet_s.

    wrk stops at its deadline with requests still in flight; a server may
    commit some after wrk has gone (gunicorn still has them in its accept
    queue), so the count is read once the servers have caught up.
    Returns (count, settled)."""
    deadline = time.monotonic() + timeout_s
    last = db.count()
    still_since = time.monotonic()
    while True:
        time.sleep(interval_s)
        now = time.monotonic()
        current = db.count()
        if current != last:
            last, still_since = current, now
        elif now - still_since >= quiet_s:
            return current, True
        if now > deadline:
            return current, False


# --- wrk's output ------------------------------------------------------------------

def read_wrk_result(path):
    """The `wrk-result` JSON of a wrk run, or None (wrk failed: its output says why)."""
    try:
        with open(path, encoding='utf-8', errors='replace') as output:
            for line in output:
                if line.startswith('wrk-result '):
                    return json.loads(line[len('wrk-result '):])
    except OSError:
        pass
    return None


def summarize(result):
    """What the table and the JSON report keep of one wrk run."""
    if result is None:
        return {'ok': False, 'errors': 1, 'error_detail': 'no wrk-result line (wrk failed)',
                'rps': 0.0, 'p50_ms': None, 'p99_ms': None, 'created': 0, 'inflight_posts': []}
    socket_errors = result['socket_errors']
    errors = result['unexpected'] + sum(socket_errors.values())
    latency = result['latency_us']
    return {
        'ok': errors == 0,
        'requests': result['requests'],
        'duration_s': result['duration_us'] / 1e6,
        'rps': result['rps'],
        'p50_ms': round(latency['p50'] / 1000, 3),
        'p90_ms': round(latency['p90'] / 1000, 3),
        'p99_ms': round(latency['p99'] / 1000, 3),
        'max_ms': round(latency['max'] / 1000, 3),
        'mean_ms': round(latency['mean'] / 1000, 3),
        'statuses': result['statuses'],
        'created': result['created'],
        'unexpected': result['unexpected'],
        'socket_errors': socket_errors,
        'errors': errors,
        'inflight_posts': result['inflight_posts'],
    }


# --- measure: one cell's runs and the check after it ------------------------------

def read_records(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding='utf-8') as results:
        return [json.loads(line) for line in results if line.strip()]


def command_measure(args):
    labels = dict(parse_pair(label, '--label') for label in args.label)
    runs = [parse_pair(run, '--run') for run in args.run]
    db = Database(args.db)
    previous = [r for r in read_records(args.results) if r['db'] == args.db]
    rows_before = previous[-1]['rows_expected'] if previous else args.base_rows

    summaries = {server: summarize(read_wrk_result(path)) for server, path in runs}
    rows, settled = settle(db)
    created = sum(s['created'] for s in summaries.values())
    inflight = [name for s in summaries.values() for name in s['inflight_posts']]
    inflight_committed = db.count_named(inflight) if inflight else 0
    prefixed = sum(db.count_prefixed(nonce + '-') for nonce in args.nonce)
    integrity = db.integrity()
    expected = rows_before + created + inflight_committed

    problems = []
    # wrk keeps at most one request in flight per connection; more "in
    # flight" names than that were answered with something other than 201.
    connections = int(labels.get('connections', 0)) * len(runs)
    if connections and inflight_committed > connections:
        problems.append('%d unanswered POSTs committed, more than the %d connections '
                        '(POSTs answered with an error were committed)' % (inflight_committed, connections))
    if rows != expected:
        problems.append('%d rows, expected %d' % (rows, expected))
    if prefixed != created + inflight_committed:
        problems.append('%d rows named %s-*, expected %d' % (
            prefixed, '-* or '.join(args.nonce), created + inflight_committed))
    if not settled:
        problems.append('the row count was still moving 30 s after wrk stopped')
    if integrity not in (None, 'ok'):
        problems.append('integrity_check: %s' % integrity.replace('\n', '; ')[:200])

    what = labels.get('workload', '') + (' c=%s' % labels['connections'] if 'connections' in labels else '')
    servers = '+'.join(server for server, _ in runs)
    detail = '%d rows = %d + %d (201s) + %d (POSTs in flight at wrk\'s stop, committed)' % (
        rows, rows_before, created, inflight_committed)
    if integrity is not None:
        detail += '; integrity_check %s' % ('ok' if integrity == 'ok' else 'FAILED')
    if problems:
        line = 'FAIL: %s %s: %s (%s)' % (servers, what, '; '.join(problems), detail)
    else:
        line = 'ok: %s %s: %s' % (servers, what, detail)

    with open(args.results, 'a', encoding='utf-8') as results:
        for server, path in runs:
            record = dict(labels)
            record.update({'server': server, 'db': args.db, 'wrk_output': path,
                           'rows_before': rows_before, 'rows_after': rows, 'rows_expected': expected,
                           'inflight_committed': inflight_committed, 'integrity': integrity,
                           'check_ok': not problems, 'check': line})
            record.update(summaries[server])
            record['inflight_posts'] = len(record['inflight_posts'])
            results.write(json.dumps(record) + '\n')
    print(line)
    return 0 if not problems else CHECK_FAILED


def parse_pair(text, option):
    key, sep, value = text.partition('=')
    if not sep or not key:
        raise SystemExit('error: %s needs KEY=VALUE, got %r' % (option, text))
    return key, value


# --- report: the load.sh table ------------------------------------------------------

def fmt_rps(value):
    return '%.0f' % value if value is not None else '-'


def fmt_ms(value):
    return '%.2f' % value if value is not None else '-'


def command_report(args):
    records = read_records(args.results)
    meta = json.loads(args.meta) if args.meta else {}
    cells = {}
    for record in records:
        key = (record['workload'], int(record['connections']))
        cells.setdefault(key, {'workload': key[0], 'connections': key[1], 'order': []})
        cells[key][record['server']] = strip_record(record)
        cells[key]['order'].append(record['server'])
    ordered = sorted(cells.values(), key=lambda c: (WORKLOADS.index(c['workload']), c['connections']))

    print('| workload | connections | people req/s | p50 ms | p99 ms | errors '
          '| flask req/s | p50 ms | p99 ms | errors | people/flask |')
    print('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
    for cell in ordered:
        people, flask = cell.get('people'), cell.get('flask')
        ratio = None
        if people and flask and flask['rps']:
            ratio = people['rps'] / flask['rps']
        cell['ratio'] = ratio
        row = [cell['workload'], str(cell['connections'])]
        for side in (people, flask):
            if side is None:
                row += ['-'] * 4
            else:
                row += [fmt_rps(side['rps']), fmt_ms(side['p50_ms']), fmt_ms(side['p99_ms']), str(side['errors'])]
        row.append('%.2fx' % ratio if ratio is not None else '-')
        print('| ' + ' | '.join(row) + ' |')

    checks, ok = print_checks_and_verdict(records, len(ordered), 'cells')

    if args.json:
        write_json(args.json, {'meta': meta, 'cells': ordered, 'checks': checks_json(checks), 'ok': ok})
    return 0 if ok else 1


def print_checks_and_verdict(records, units, unit_name):
    """Prints every check line and the PASS/FAIL line; returns (checks, ok)."""
    checks = unique_checks(records)
    print()
    for line in checks:
        print(line)
    errors = sum(record['errors'] for record in records)
    failed = sum(1 for line in checks if not line.startswith('ok:'))
    ok = errors == 0 and failed == 0 and bool(records)
    print()
    print('%s: %d %s, %d checks failed, %d errors' % ('PASS' if ok else 'FAIL', units, unit_name, failed, errors))
    return checks, ok


def checks_json(checks):
    return [{'ok': line.startswith('ok:'), 'line': line} for line in checks]


def unique_checks(records):
    """One line per check (a check covers every run of its cell on one db)."""
    seen, lines = set(), []
    for record in records:
        if record['check'] not in seen:
            seen.add(record['check'])
            lines.append(record['check'])
    return lines


def strip_record(record):
    """A record without what the chart script does not need (paths, labels)."""
    return {key: value for key, value in record.items()
            if key not in ('db', 'wrk_output', 'workload', 'connections', 'server', 'check')}


def write_json(path, document):
    with open(path, 'w', encoding='utf-8') as out:
        json.dump(document, out, indent=2)
        out.write('\n')


# --- scale-report: scale_out.sh's table ---------------------------------------------

def command_scale_report(args):
    records = read_records(args.results)
    meta = json.loads(args.meta) if args.meta else {}
    print('| server | connections | req/s | p50 ms | p99 ms | errors | 201s |')
    print('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
    for record in records:
        print('| %s | %s | %s | %s | %s | %d | %d |' % (
            record['server'], record.get('connections', '-'), fmt_rps(record['rps']),
            fmt_ms(record['p50_ms']), fmt_ms(record['p99_ms']), record['errors'], record['created']))
    total_rps = sum(record['rps'] for record in records)
    print('| **both** | | %s | | | %d | %d |' % (
        fmt_rps(total_rps), sum(r['errors'] for r in records), sum(r['created'] for r in records)))
    checks, ok = print_checks_and_verdict(records, len(records), 'servers')
    if args.json:
        write_json(args.json, {'meta': meta, 'servers': [dict(strip_record(r), server=r['server']) for r in records],
                               'total_rps': total_rps, 'checks': checks_json(checks), 'ok': ok})
    return 0 if ok else 1


# --- small commands ------------------------------------------------------------------

def command_free_port(args):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        print(sock.getsockname()[1])
    return 0


def command_names(args):
    with open(args.file, 'w', encoding='utf-8') as out:
        for i in range(1, args.n + 1):
            out.write('seed-%07d\n' % i)
    return 0


def command_meta(args):
    """KEY=VALUE pairs as a JSON object; a VALUE that is JSON (a number, a list) stays one."""
    meta = {}
    for pair in args.pairs:
        key, value = parse_pair(pair, 'meta')
        try:
            meta[key] = json.loads(value)
        except ValueError:
            meta[key] = value
    print(json.dumps(meta))
    return 0


def command_count(args):
    print(Database(args.db).count())
    return 0


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    commands = parser.add_subparsers(dest='command', required=True)

    commands.add_parser('free-port').set_defaults(handler=command_free_port)

    names = commands.add_parser('names')
    names.add_argument('n', type=int)
    names.add_argument('file')
    names.set_defaults(handler=command_names)

    count = commands.add_parser('count')
    count.add_argument('db')
    count.set_defaults(handler=command_count)

    meta = commands.add_parser('meta')
    meta.add_argument('pairs', nargs='*')
    meta.set_defaults(handler=command_meta)

    measure = commands.add_parser('measure')
    measure.add_argument('--results', required=True)
    measure.add_argument('--db', required=True)
    measure.add_argument('--base-rows', type=int, required=True)
    measure.add_argument('--nonce', action='append', required=True,
                         help='the NONCE given to each wrk run (its POSTs are named NONCE-...)')
    measure.add_argument('--label', action='append', default=[])
    measure.add_argument('--run', action='append', required=True)
    measure.set_defaults(handler=command_measure)

    for name, run in (('report', command_report), ('scale-report', command_scale_report)):
        report = commands.add_parser(name)
        report.add_argument('--results', required=True)
        report.add_argument('--json')
        report.add_argument('--meta')
        report.set_defaults(handler=run)

    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)   # Ctrl-C: the calling script says what happened
