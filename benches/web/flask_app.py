"""The Flask-SQLAlchemy side of the web load benchmark (see README.md here).

The same routes as `people serve`, written the way the Flask-SQLAlchemy
tutorial writes an app: `db = SQLAlchemy()` at module level, a `Person`
model, `db.session`, `db.get_or_404` and `db.paginate`. It serves a database
that `people` made (`people migrate` + `people import`), so it never calls
`db.create_all()`: the schema, its CHECKs and its trigger are people's.

    DATABASE=/abs/path/people.db gunicorn -w 2 -k sync flask_app:app

Routes (JSON in and out):
    GET  /persons/<id>                      200 person | 404
    GET  /persons?page=P&per_page=K[&q=T]   200 numbered page (db.paginate) | 404 past the end
    GET  /persons?after=ID&limit=N[&q=T]    200 keyset page {items, limit, next_after}
    POST /persons {"name": "..."}           201 + Location | 409 taken | 422 invalid | 400 malformed
                                            | 415 not application/json
    GET  /healthz                           200 once the database answers

Errors are RFC 9457 problems (application/problem+json), as people serve's.

For a fair race each SQLite connection gets the settings people uses
(WAL, synchronous=NORMAL, busy_timeout=5000, foreign_keys=ON), and the
timestamps are written as people writes them: UTC text with microseconds.
"""

import os
import unicodedata
from datetime import datetime, timezone

from flask import Flask, abort, jsonify, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

MAX_NAME_CHARS = 80
# Page sizes as in people serve: numbered pages at most 100 items, keyset
# pages 50 by default and at most 1,000.
MAX_PER_PAGE = 100
DEFAULT_LIMIT = 50
MAX_LIMIT = 1000

db = SQLAlchemy()


def utcnow():
    """Now in UTC as a naive datetime: SQLAlchemy's SQLite DateTime stores it as
    `YYYY-MM-DD HH:MM:SS.ffffff`, the text people writes."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Person(db.Model):
    __tablename__ = 'person'

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), unique=True, nullable=False)
    # Mapped onto people's TIMESTAMP columns (text in SQLite, UTC).
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    def to_dict(self):
        return {
            'id': self.id,
            'name': self.name,
            'created_at': rfc3339(self.created_at),
            'updated_at': rfc3339(self.updated_at),
        }

    def __repr__(self):
        return '<Name %r>' % self.name


def rfc3339(moment):
    """`2026-11-26T04:30:00.123456Z`, as people serve writes it."""
    return moment.strftime('%Y-%m-%dT%H:%M:%S.%fZ')


@event.listens_for(Engine, 'connect')
def set_sqlite_pragmas(dbapi_connection, connection_record):
    # people's settings for every SQLite connection it opens.
    cursor = dbapi_connection.cursor()
    cursor.execute('PRAGMA journal_mode=WAL')
    cursor.execute('PRAGMA synchronous=NORMAL')
    cursor.execute('PRAGMA busy_timeout=5000')
    cursor.execute('PRAGMA foreign_keys=ON')
    cursor.close()


def name_problem(name):
    """Why people would refuse this name (its PersonName rules), or None."""
    if not name:
        return 'a name cannot be empty'
    if len(name) > MAX_NAME_CHARS:
        return 'a name is at most %d characters' % MAX_NAME_CHARS
    if any(unicodedata.category(c) == 'Cc' for c in name):
        return 'a name cannot contain control characters'
    if name[0].isspace() or name[-1].isspace():
        return 'a name cannot have leading or trailing whitespace'
    return None


def name_filter(select):
    """Only names containing ?q=, ignoring ASCII case, `%` and `_` literal (as people)."""
    q = request.args.get('q')
    if q is None:
        return select
    return select.where(Person.name.icontains(q, autoescape=True))


def int_arg(key, default=None):
    """An integer query argument; 400 if present and not an integer."""
    value = request.args.get(key)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        abort(400, description='%s must be an integer' % key)


def create_app():
    app = Flask(__name__)
    database = os.environ.get('DATABASE')
    if not database:
        raise RuntimeError('set DATABASE to the SQLite file people made, e.g. DATABASE=/abs/path/people.db')
    app.config['SQLALCHEMY_DATABASE_URI'] = 'sqlite:///' + os.path.abspath(database)
    app.json.sort_keys = False
    db.init_app(app)

    @app.errorhandler(HTTPException)
    def problem(error):
        body = jsonify(type='about:blank', title=error.name, status=error.code, detail=error.description)
        body.mimetype = 'application/problem+json'
        return body, error.code

    @app.get('/healthz')
    def healthz():
        db.session.execute(db.text('SELECT 1'))
        return jsonify(status='ok')

    @app.get('/persons/<int:person_id>')
    def get_person(person_id):
        person = db.get_or_404(Person, person_id)
        return jsonify(person.to_dict())

    @app.get('/persons')
    def list_persons():
        if 'after' in request.args or 'limit' in request.args:
            return keyset_page()
        return numbered_page()

    def numbered_page():
        # db.paginate reads ?page= and ?per_page= itself; a page past the end
        # other than 1 is a 404 (error_out), per_page is capped at 100.
        page = db.paginate(name_filter(db.select(Person)).order_by(Person.id),
                           max_per_page=MAX_PER_PAGE)
        return jsonify(items=[person.to_dict() for person in page.items],
                       page=page.page, per_page=page.per_page,
                       total=page.total, pages=page.pages)

    def keyset_page():
        if 'page' in request.args or 'per_page' in request.args:
            abort(400, description='use page/per_page (numbered pages) or after/limit (keyset pages), not both')
        after = int_arg('after')
        limit = int_arg('limit', DEFAULT_LIMIT)
        if limit < 1:
            abort(400, description='limit must be 1 or more, not %d' % limit)
        limit = min(limit, MAX_LIMIT)
        select = name_filter(db.select(Person))
        if after is not None:
            select = select.where(Person.id > after)
        items = db.session.execute(select.order_by(Person.id).limit(limit)).scalars().all()
        next_after = items[-1].id if len(items) == limit else None
        return jsonify(items=[person.to_dict() for person in items], limit=limit, next_after=next_after)

    @app.post('/persons')
    def create_person():
        if not request.is_json:
            abort(415, description='send the body as application/json')
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get('name'), str):
            abort(400, description='the body must be a JSON object with a string "name"')
        name = body['name']
        problem = name_problem(name)
        if problem:
            abort(422, description=problem)
        # One instant for both columns, as people does on insert.
        now = utcnow()
        person = Person(name=name, created_at=now, updated_at=now)
        db.session.add(person)
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            abort(409, description='the name is taken')
        return jsonify(person.to_dict()), 201, {'Location': '/persons/%d' % person.id}

    return app


app = create_app()
