/* The good sink's hot path: a tab-separated line turned into the members of a JSON object in one
 * pass over its bytes, for the columns whose JSON is their own text (strings, escaped), that text
 * checked (integers, decimals, booleans) or that text barely changed (timestamps).
 *
 * Python made a str for each of the 131 columns, a dict for the event and then walked the dict to
 * encode it: about 20 us per event, two thirds of the sink's CPU. This writes the same JSON from
 * the line in about a microsecond. It knows nothing of Snowplow: `libs/formats/enriched.py` gives
 * it the column names and kinds, and takes the general path for every line this declines (see
 * `Encoder.encode`).
 *
 * Columns holding self-describing JSON (Iglu's `{"schema": ..., "data": ...}`) are shredded: each
 * entity's data goes under a key named for its schema by a Python function, entities of one key
 * in one list. Their JSON is checked as it is scanned and copied as it is, so a context costs no
 * Python object at all. A value this scanner is unsure of (an escape in a key, a number a double
 * cannot hold exactly, an object deeper or wider than the bounds below) is handed back instead,
 * with the line's other JSON columns, for Python to parse.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* Column kinds, as the bytes passed to Encoder(). */
#define KIND_STRING 's'
#define KIND_INTEGER 'i'
#define KIND_DECIMAL 'd'
#define KIND_BOOLEAN 'b'
#define KIND_TIMESTAMP 't'
#define KIND_LEFT_OUT '-'
/* Self-describing JSON whose data is an array of self-describing entities (contexts). */
#define KIND_ENTITIES 'e'
/* Self-describing JSON whose data is one self-describing entity (an unstructured event). */
#define KIND_WRAPPED_ENTITY 'w'

/* A line's columns are located on the stack; layouts are far smaller. */
#define MAX_COLUMNS 512
/* Integers of nine digits at most fit 32 bits, as the event model requires. */
#define MAX_INTEGER_DIGITS 9
/* A decimal of at most 15 digits (DBL_DIG) is the double it reads as: written as it is, it stays
 * the number Python's float() makes of it, and one without a point stays exact for any reader. */
#define MAX_DECIMAL_DIGITS 15
/* `YYYY-MM-DD HH:MM:SS.mmm`, as enrichers write timestamps. */
static const char TIMESTAMP_SHAPE[] = "0000-00-00 00:00:00.000";
#define TIMESTAMP_LENGTH (sizeof(TIMESTAMP_SHAPE) - 1)
#define DATE_LENGTH 10
/* Bounds of the JSON shredded here; anything past them is handed back. */
#define MAX_ENTITIES 64
#define MAX_DEPTH 32
#define MAX_KEYS 64
/* An integer of up to 18 digits is exact in 64 bits; JSON readers turn longer ones into doubles. */
#define MAX_NUMBER_DIGITS 18
#define MAX_EXPONENT_DIGITS 2
/* Per column, schema URIs whose keys are remembered; emptied when full. */
#define KEYS_KEPT 4096
/* Members added after the columns' own. */
#define MAX_ADDED 8

typedef struct {
    PyObject_HEAD
    Py_ssize_t columns;
    char kinds[MAX_COLUMNS];
    char returned[MAX_COLUMNS];
    Py_ssize_t returned_count;
    /* Per column, `,"name":` (the comma left out before the first member). */
    PyObject *prefixes[MAX_COLUMNS];
    Py_ssize_t prefixes_length;
    /* key_of(column, schema URI) -> key of the entities of that schema. (The encoder is made
     * once per process, so it does not take part in garbage collection.) */
    PyObject *key_of;
    /* Per self-describing column, schema URI (bytes) -> `"key":` (bytes). */
    PyObject *keys[MAX_COLUMNS];
    /* Members after the columns' own: `,"name":` and the value of column `first` again, or
     * (when `second` is not -1) the string "<first>,<second>" if both are non-empty. */
    struct {
        PyObject *prefix;
        Py_ssize_t first;
        Py_ssize_t second;
    } added[MAX_ADDED];
    int added_count;
} Encoder;

static int
is_self_describing(char kind)
{
    return kind == KIND_ENTITIES || kind == KIND_WRAPPED_ENTITY;
}

/* `,"name":` as bytes. Names are plain identifiers: written as they are, with no escaping. */
static PyObject *
member_prefix(PyObject *name)
{
    PyObject *prefix = PyUnicode_FromFormat(",\"%U\":", name);
    if (prefix == NULL)
        return NULL;
    PyObject *encoded = PyUnicode_AsUTF8String(prefix);
    Py_DECREF(prefix);
    return encoded;
}

/* Takes `added`, a tuple of (name, column) and (name, first column, second column). */
static int
set_added(Encoder *self, PyObject *added, const char *kinds, Py_ssize_t columns)
{
    for (int index = 0; index < self->added_count; index++)
        Py_CLEAR(self->added[index].prefix);
    self->added_count = 0;
    Py_ssize_t count = added == NULL ? 0 : PyTuple_GET_SIZE(added);
    if (count > MAX_ADDED) {
        PyErr_SetString(PyExc_ValueError, "at most 8 added members");
        return -1;
    }
    for (Py_ssize_t index = 0; index < count; index++) {
        PyObject *name;
        Py_ssize_t first, second = -1;
        if (!PyArg_ParseTuple(PyTuple_GET_ITEM(added, index), "Un|n", &name, &first, &second))
            return -1;
        if (first < 0 || first >= columns || second < -1 || second >= columns ||
            !strchr("sidbt", kinds[first]) || (second >= 0 && !strchr("sidbt", kinds[second]))) {
            PyErr_SetString(PyExc_ValueError, "an added member takes one or two plain columns");
            return -1;
        }
        PyObject *prefix = member_prefix(name);
        if (prefix == NULL)
            return -1;
        self->added[index].prefix = prefix;
        self->added[index].first = first;
        self->added[index].second = second;
        self->added_count = (int)index + 1;
    }
    return 0;
}

static int
Encoder_init(Encoder *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"names", "kinds", "returned", "key_of", "added", NULL};
    PyObject *names, *returned, *key_of = Py_None, *added = NULL;
    const char *kinds;
    Py_ssize_t kinds_length;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!y#O!|OO!", keywords, &PyTuple_Type, &names,
                                     &kinds, &kinds_length, &PyTuple_Type, &returned, &key_of,
                                     &PyTuple_Type, &added))
        return -1;
    Py_ssize_t columns = PyTuple_GET_SIZE(names);
    if (columns == 0 || columns > MAX_COLUMNS || kinds_length != columns) {
        PyErr_SetString(PyExc_ValueError, "names and kinds must have the same length, 1 to 512");
        return -1;
    }
    /* Unusable until the whole layout is in place: encode() declines every line meanwhile. */
    self->columns = 0;
    self->prefixes_length = 0;
    for (Py_ssize_t column = 0; column < columns; column++) {
        char kind = kinds[column];
        if (!strchr("sidbt-ew", kind) || kind == '\0') {
            PyErr_Format(PyExc_ValueError, "unknown column kind %c", kind);
            return -1;
        }
        if (is_self_describing(kind) && !PyCallable_Check(key_of)) {
            PyErr_SetString(PyExc_TypeError, "self-describing columns need a callable key_of");
            return -1;
        }
        self->kinds[column] = kind;
        self->returned[column] = 0;
        PyObject *name = PyTuple_GET_ITEM(names, column);
        if (!PyUnicode_Check(name)) {
            PyErr_SetString(PyExc_TypeError, "column names must be str");
            return -1;
        }
        PyObject *prefix = member_prefix(name);
        if (prefix == NULL)
            return -1;
        Py_XSETREF(self->prefixes[column], prefix);
        self->prefixes_length += PyBytes_GET_SIZE(prefix);
        PyObject *keys = is_self_describing(kind) ? PyDict_New() : NULL;
        if (is_self_describing(kind) && keys == NULL)
            return -1;
        Py_XSETREF(self->keys[column], keys);
    }
    for (Py_ssize_t index = 0; index < PyTuple_GET_SIZE(returned); index++) {
        Py_ssize_t column = PyLong_AsSsize_t(PyTuple_GET_ITEM(returned, index));
        if (column == -1 && PyErr_Occurred())
            return -1;
        if (column < 0 || column >= columns) {
            PyErr_SetString(PyExc_ValueError, "a returned column is out of range");
            return -1;
        }
        self->returned[column] = 1;
    }
    for (Py_ssize_t column = 0; column < columns; column++)
        if (is_self_describing(kinds[column]) && !self->returned[column]) {
            PyErr_SetString(PyExc_ValueError, "self-describing columns must be returned");
            return -1;
        }
    if (set_added(self, added, kinds, columns) < 0)
        return -1;
    Py_INCREF(key_of);
    Py_XSETREF(self->key_of, key_of);
    /* Counted from the flags, so a column listed twice is returned once. */
    self->returned_count = 0;
    for (Py_ssize_t column = 0; column < columns; column++)
        self->returned_count += self->returned[column];
    self->columns = columns;
    return 0;
}

static void
Encoder_dealloc(Encoder *self)
{
    for (Py_ssize_t column = 0; column < MAX_COLUMNS; column++) {
        Py_CLEAR(self->prefixes[column]);
        Py_CLEAR(self->keys[column]);
    }
    for (int index = 0; index < self->added_count; index++)
        Py_CLEAR(self->added[index].prefix);
    Py_CLEAR(self->key_of);
    PyTypeObject *type = Py_TYPE(self);
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

static int
is_digit(char character)
{
    return character >= '0' && character <= '9';
}

static int
is_plain_integer(const char *text, Py_ssize_t length)
{
    if (length > MAX_INTEGER_DIGITS || (length > 1 && text[0] == '0'))
        return 0;
    for (Py_ssize_t at = 0; at < length; at++)
        if (!is_digit(text[at]))
            return 0;
    return 1;
}

/* `-?(0|[1-9][0-9]*)(\.[0-9]+)?`: a JSON number that reads as the double Python's float() makes
 * of the same text. Other spellings float() accepts (`1e5`, `.5`, `+1`, `inf`) are declined. */
static int
is_plain_decimal(const char *text, Py_ssize_t length)
{
    Py_ssize_t at = 0, digits;
    if (at < length && text[at] == '-')
        at++;
    if (at < length && text[at] == '0')
        at++;
    else if (at < length && is_digit(text[at]))
        while (at < length && is_digit(text[at]))
            at++;
    else
        return 0;
    digits = at - (text[0] == '-');
    if (at < length) {
        if (text[at] != '.' || ++at == length)
            return 0;
        while (at < length && is_digit(text[at])) {
            at++;
            digits++;
        }
    }
    return at == length && digits <= MAX_DECIMAL_DIGITS;
}

static int
is_usual_timestamp(const char *text, Py_ssize_t length)
{
    if (length != (Py_ssize_t)TIMESTAMP_LENGTH)
        return 0;
    for (Py_ssize_t at = 0; at < length; at++) {
        char expected = TIMESTAMP_SHAPE[at];
        if (expected == '0' ? !is_digit(text[at]) : text[at] != expected)
            return 0;
    }
    return 1;
}

static const char HEX[] = "0123456789abcdef";

/* Bytes a JSON string holds as they are: all but quotes, backslashes and those below 0x20. Filled
 * when the module loads. */
static unsigned char PLAIN_IN_STRING[256];

#define EACH_BYTE(byte) (0x0101010101010101ULL * (byte))

/* Whether any of the eight bytes at `text` is a quote, a backslash or below 0x20: what JSON
 * strings escape. Strings are mostly long runs of neither, taken eight bytes at a time. */
static int
has_special_byte(const char *text)
{
    uint64_t word, quotes, backslashes;
    memcpy(&word, text, sizeof word);
    quotes = word ^ EACH_BYTE('"');
    backslashes = word ^ EACH_BYTE('\\');
    /* (x - 0x01..) & ~x has the high bit of a byte set where x's byte was zero (and perhaps in
     * bytes above it, which does not change the answer); with 0x20 instead of 0x01, where it
     * was below 0x20. */
    uint64_t below_space = (word - EACH_BYTE(0x20)) & ~word;
    uint64_t quote = (quotes - EACH_BYTE(1)) & ~quotes;
    uint64_t backslash = (backslashes - EACH_BYTE(1)) & ~backslashes;
    return ((below_space | quote | backslash) & EACH_BYTE(0x80)) != 0;
}

/* Writes `text` as the inside of a JSON string; returns the end of what was written. The text is
 * valid UTF-8 (it comes from a str), so bytes from 0x80 are copied as they are. */
static char *
write_escaped(char *out, const char *text, Py_ssize_t length)
{
    Py_ssize_t at = 0;
    while (at < length) {
        if (length - at >= 8 && !has_special_byte(text + at)) {
            memcpy(out, text + at, 8);
            out += 8;
            at += 8;
            continue;
        }
        unsigned char byte = (unsigned char)text[at++];
        if (PLAIN_IN_STRING[byte])
            *out++ = (char)byte;
        else if (byte == '"' || byte == '\\') {
            *out++ = '\\';
            *out++ = (char)byte;
        }
        else {
            memcpy(out, "\\u00", 4);
            out[4] = HEX[byte >> 4];
            out[5] = HEX[byte & 0xf];
            out += 6;
        }
    }
    return out;
}

/* Whether `text` is UTF-8 as Python's strict decoder takes it: no overlong forms, no surrogates,
 * nothing above U+10FFFF (Unicode's table 3-7 of well-formed byte sequences). */
static int
is_utf8(const unsigned char *text, Py_ssize_t length)
{
    Py_ssize_t at = 0;
    while (at < length) {
        if (length - at >= 8) {
            uint64_t word;
            memcpy(&word, text + at, sizeof word);
            if ((word & EACH_BYTE(0x80)) == 0) {
                at += 8;
                continue;
            }
        }
        unsigned char lead = text[at];
        if (lead < 0x80) {
            at++;
            continue;
        }
        int bytes;
        unsigned char lowest = 0x80, highest = 0xBF;
        if (lead >= 0xC2 && lead <= 0xDF)
            bytes = 2;
        else if (lead >= 0xE0 && lead <= 0xEF) {
            bytes = 3;
            if (lead == 0xE0)
                lowest = 0xA0;
            else if (lead == 0xED)
                highest = 0x9F;
        }
        else if (lead >= 0xF0 && lead <= 0xF4) {
            bytes = 4;
            if (lead == 0xF0)
                lowest = 0x90;
            else if (lead == 0xF4)
                highest = 0x8F;
        }
        else
            return 0;
        if (length - at < bytes || text[at + 1] < lowest || text[at + 1] > highest)
            return 0;
        for (int next = 2; next < bytes; next++)
            if ((text[at + next] & 0xC0) != 0x80)
                return 0;
        at += bytes;
    }
    return 1;
}

/* Writes the value of one column after its name; NULL when the line needs the general path. */
static char *
write_value(char *out, char kind, const char *text, Py_ssize_t length)
{
    switch (kind) {
    case KIND_STRING:
        *out++ = '"';
        out = write_escaped(out, text, length);
        *out++ = '"';
        return out;
    case KIND_TIMESTAMP:
        if (!is_usual_timestamp(text, length))
            return NULL;
        *out++ = '"';
        memcpy(out, text, DATE_LENGTH);
        out[DATE_LENGTH] = 'T';
        memcpy(out + DATE_LENGTH + 1, text + DATE_LENGTH + 1, length - DATE_LENGTH - 1);
        out += length;
        memcpy(out, "Z\"", 2);
        return out + 2;
    case KIND_INTEGER:
        if (!is_plain_integer(text, length))
            return NULL;
        break;
    case KIND_DECIMAL:
        if (!is_plain_decimal(text, length))
            return NULL;
        break;
    default: /* KIND_BOOLEAN */
        if (length != 1 || (text[0] != '0' && text[0] != '1'))
            return NULL;
        memcpy(out, text[0] == '1' ? "true" : "false", text[0] == '1' ? 4 : 5);
        return out + (text[0] == '1' ? 4 : 5);
    }
    memcpy(out, text, length);
    return out + length;
}

/* Shredding self-describing columns.
 *
 * The scanner checks JSON as strictly as the parser Python would use (orjson): every scan_*
 * function takes the text at `at` and returns where its value ends, or NULL when the value is
 * not JSON or is outside the bounds above, and the columns are handed back. */

typedef struct {
    const char *at;
    Py_ssize_t length;
} Span;

typedef struct {
    /* `"key":`, a strong reference. */
    PyObject *key;
    Span data;
    /* From a wrapped entity: the key's value is the data itself, not a list. */
    int single;
    int written;
} Entity;

typedef struct {
    Encoder *encoder;
    Py_ssize_t column;
    Entity entities[MAX_ENTITIES];
    int count;
} Shredding;

static void
release_entities(Shredding *shredding)
{
    for (int index = 0; index < shredding->count; index++)
        Py_DECREF(shredding->entities[index].key);
    shredding->count = 0;
}

static const char *
skip_space(const char *at, const char *end)
{
    while (at < end && (*at == ' ' || *at == '\n' || *at == '\r' || *at == '\t'))
        at++;
    return at;
}

static int
hex_value(char character)
{
    if (is_digit(character))
        return character - '0';
    if (character >= 'a' && character <= 'f')
        return character - 'a' + 10;
    if (character >= 'A' && character <= 'F')
        return character - 'A' + 10;
    return -1;
}

/* A string from its opening quote; `escaped` tells whether it holds an escape. Escaped
 * surrogates are handed back: only pairs are valid, and Python checks those. */
static const char *
scan_string(const char *at, const char *end, int *escaped)
{
    *escaped = 0;
    for (at++; at < end; at++) {
        /* No bound check: a column ends at a tab or at the line's terminating NUL, both below
         * 0x20, so this stops there at the latest. */
        while (PLAIN_IN_STRING[(unsigned char)*at])
            at++;
        if (at >= end)
            break;
        unsigned char byte = (unsigned char)*at;
        if (byte == '"')
            return at + 1;
        if (byte < 0x20)
            return NULL;
        if (byte != '\\')
            continue;
        *escaped = 1;
        if (++at == end)
            return NULL;
        if (*at == 'u') {
            int code = 0;
            for (int digit = 1; digit <= 4; digit++) {
                int value = at + digit < end ? hex_value(at[digit]) : -1;
                if (value < 0)
                    return NULL;
                code = code * 16 + value;
            }
            if (code >= 0xD800 && code <= 0xDFFF)
                return NULL;
            at += 4;
        }
        else if (!strchr("\"\\/bfnrt", *at) || *at == '\0')
            return NULL;
    }
    return NULL;
}

static const char *
scan_digits(const char *at, const char *end, int *digits)
{
    const char *start = at;
    while (at < end && is_digit(*at))
        at++;
    *digits = (int)(at - start);
    return at;
}

/* `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?` with at most 18 digits before the exponent
 * and two in it: Python reads longer integers as doubles and a larger exponent may be out of a
 * double's range, which the data copied as it is would not say. */
static const char *
scan_number(const char *at, const char *end)
{
    int digits, fraction, exponent;
    if (*at == '-')
        at++;
    if (at == end || !is_digit(*at) || (*at == '0' && at + 1 < end && is_digit(at[1])))
        return NULL;
    at = scan_digits(at, end, &digits);
    if (at < end && *at == '.') {
        at = scan_digits(at + 1, end, &fraction);
        if (fraction == 0)
            return NULL;
        digits += fraction;
    }
    if (digits > MAX_NUMBER_DIGITS)
        return NULL;
    if (at < end && (*at == 'e' || *at == 'E')) {
        at++;
        if (at < end && (*at == '+' || *at == '-'))
            at++;
        at = scan_digits(at, end, &exponent);
        if (exponent == 0 || exponent > MAX_EXPONENT_DIGITS)
            return NULL;
    }
    return at;
}

static const char *
scan_literal(const char *at, const char *end, const char *literal, Py_ssize_t length)
{
    return end - at >= length && memcmp(at, literal, length) == 0 ? at + length : NULL;
}

static const char *scan_value(const char *at, const char *end, int depth);

/* An object's members, calling `member` with each key (quotes excluded) and the text after its
 * colon. A key with an escape is handed back: keys are compared as written, and a repeated key
 * (which Python reads as its last value and Elasticsearch refuses) must not pass unseen. */
typedef const char *(*MemberScanner)(void *context, Span key, const char *at, const char *end,
                                     int depth);

static const char *
scan_object(const char *at, const char *end, int depth, MemberScanner member, void *context)
{
    Span keys[MAX_KEYS];
    int count = 0, escaped;
    if (depth > MAX_DEPTH)
        return NULL;
    at = skip_space(at + 1, end);
    if (at < end && *at == '}')
        return at + 1;
    for (;;) {
        if (at == end || *at != '"' || count == MAX_KEYS)
            return NULL;
        const char *key_end = scan_string(at, end, &escaped);
        if (key_end == NULL || escaped)
            return NULL;
        Span key = {at + 1, key_end - at - 2};
        for (int index = 0; index < count; index++)
            if (keys[index].length == key.length && memcmp(keys[index].at, key.at, key.length) == 0)
                return NULL;
        keys[count++] = key;
        at = skip_space(key_end, end);
        if (at == end || *at != ':')
            return NULL;
        at = skip_space(at + 1, end);
        at = member == NULL ? scan_value(at, end, depth + 1) : member(context, key, at, end, depth + 1);
        if (at == NULL)
            return NULL;
        at = skip_space(at, end);
        if (at < end && *at == '}')
            return at + 1;
        if (at == end || *at != ',')
            return NULL;
        at = skip_space(at + 1, end);
    }
}

/* An array's elements, each scanned by `element` (scan_value if NULL). */
typedef const char *(*ElementScanner)(void *context, const char *at, const char *end, int depth);

static const char *
scan_array(const char *at, const char *end, int depth, ElementScanner element, void *context)
{
    if (depth > MAX_DEPTH)
        return NULL;
    at = skip_space(at + 1, end);
    if (at < end && *at == ']')
        return at + 1;
    for (;;) {
        at = element == NULL ? scan_value(at, end, depth + 1) : element(context, at, end, depth + 1);
        if (at == NULL)
            return NULL;
        at = skip_space(at, end);
        if (at < end && *at == ']')
            return at + 1;
        if (at == end || *at != ',')
            return NULL;
        at = skip_space(at + 1, end);
    }
}

static const char *
scan_value(const char *at, const char *end, int depth)
{
    int escaped;
    if (at == end)
        return NULL;
    switch (*at) {
    case '"':
        return scan_string(at, end, &escaped);
    case '{':
        return scan_object(at, end, depth, NULL, NULL);
    case '[':
        return scan_array(at, end, depth, NULL, NULL);
    case 't':
        return scan_literal(at, end, "true", 4);
    case 'f':
        return scan_literal(at, end, "false", 5);
    case 'n':
        return scan_literal(at, end, "null", 4);
    default:
        return *at == '-' || is_digit(*at) ? scan_number(at, end) : NULL;
    }
}

static int
is_key(Span key, const char *name)
{
    return key.length == (Py_ssize_t)strlen(name) && memcmp(key.at, name, key.length) == 0;
}

/* A self-describing object: where its schema (a string without escapes, quotes excluded) and
 * its data are, the data scanned by `data` (scan_value if NULL). */
typedef struct {
    Span schema;
    Span data;
    ElementScanner scan_data;
    void *context;
} SelfDescribing;

static const char *
scan_self_describing_member(void *context, Span key, const char *at, const char *end, int depth)
{
    SelfDescribing *found = context;
    const char *value_end;
    int escaped;
    if (is_key(key, "schema")) {
        if (at == end || *at != '"')
            return NULL;
        value_end = scan_string(at, end, &escaped);
        if (value_end == NULL || escaped)
            return NULL;
        found->schema = (Span){at + 1, value_end - at - 2};
        return value_end;
    }
    if (is_key(key, "data")) {
        value_end = found->scan_data == NULL ? scan_value(at, end, depth)
                                             : found->scan_data(found->context, at, end, depth);
        if (value_end != NULL)
            found->data = (Span){at, value_end - at};
        return value_end;
    }
    return scan_value(at, end, depth);
}

static const char *
scan_self_describing(const char *at, const char *end, int depth, SelfDescribing *found)
{
    found->schema.at = found->data.at = NULL;
    if (at == end || *at != '{')
        return NULL;
    at = scan_object(at, end, depth, scan_self_describing_member, found);
    return at == NULL || found->schema.at == NULL || found->data.at == NULL ? NULL : at;
}

/* `"key":` for entities of `schema` in `shredding`'s column, a new reference; NULL (with no
 * error set) when key_of fails: Python's own pass over the columns then says why. */
static PyObject *
key_of(Shredding *shredding, Span schema)
{
    PyObject *keys = shredding->encoder->keys[shredding->column];
    PyObject *named = NULL, *key = NULL;
    PyObject *uri = PyBytes_FromStringAndSize(schema.at, schema.length);
    if (uri == NULL)
        goto done;
    key = PyDict_GetItemWithError(keys, uri);
    if (key != NULL) {
        Py_INCREF(key);
        goto done;
    }
    if (PyErr_Occurred())
        goto done;
    named = PyObject_CallFunction(shredding->encoder->key_of, "ns#", shredding->column, schema.at,
                                  schema.length);
    if (named == NULL)
        goto done;
    Py_ssize_t length;
    const char *text = PyUnicode_Check(named) ? PyUnicode_AsUTF8AndSize(named, &length) : NULL;
    if (text == NULL)
        goto done;
    key = PyBytes_FromStringAndSize(NULL, 6 * length + 3);
    if (key == NULL)
        goto done;
    char *out = PyBytes_AS_STRING(key);
    *out++ = '"';
    out = write_escaped(out, text, length);
    memcpy(out, "\":", 2);
    if (_PyBytes_Resize(&key, out + 2 - PyBytes_AS_STRING(key)) < 0)
        goto done;
    if (PyDict_GET_SIZE(keys) >= KEYS_KEPT)
        PyDict_Clear(keys);
    if (PyDict_SetItem(keys, uri, key) < 0)
        Py_CLEAR(key);
done:
    Py_XDECREF(uri);
    Py_XDECREF(named);
    PyErr_Clear();
    return key;
}

static int
add_entity(Shredding *shredding, Span schema, Span data, int single)
{
    if (shredding->count == MAX_ENTITIES)
        return 0;
    PyObject *key = key_of(shredding, schema);
    if (key == NULL)
        return 0;
    shredding->entities[shredding->count++] = (Entity){key, data, single, 0};
    return 1;
}

/* A self-describing entity, its data kept; `single` as in Entity. */
static const char *
scan_entity(Shredding *shredding, const char *at, const char *end, int depth, int single)
{
    SelfDescribing entity = {.scan_data = NULL};
    at = scan_self_describing(at, end, depth, &entity);
    return at != NULL && add_entity(shredding, entity.schema, entity.data, single) ? at : NULL;
}

/* An entity of a contexts array. */
static const char *
scan_listed_entity(void *context, const char *at, const char *end, int depth)
{
    return scan_entity(context, at, end, depth, 0);
}

static const char *
scan_entities(void *context, const char *at, const char *end, int depth)
{
    return at < end && *at == '[' ? scan_array(at, end, depth, scan_listed_entity, context) : NULL;
}

/* The entity an unstructured event wraps. */
static const char *
scan_wrapped_entity(void *context, const char *at, const char *end, int depth)
{
    return scan_entity(context, at, end, depth, 1);
}

/* Adds the entities of one self-describing column to `shredding`; 0 if it must be handed back. */
static int
shred_column(Shredding *shredding, Py_ssize_t column, const char *text, Py_ssize_t length)
{
    const char *end = text + length;
    shredding->column = column;
    SelfDescribing envelope = {
        .scan_data = shredding->encoder->kinds[column] == KIND_ENTITIES ? scan_entities
                                                                         : scan_wrapped_entity,
        .context = shredding,
    };
    const char *at = scan_self_describing(skip_space(text, end), end, 0, &envelope);
    return at != NULL && skip_space(at, end) == end;
}

static int
same_key(PyObject *one, PyObject *other)
{
    return one == other || (PyBytes_GET_SIZE(one) == PyBytes_GET_SIZE(other) &&
                            memcmp(PyBytes_AS_STRING(one), PyBytes_AS_STRING(other),
                                   PyBytes_GET_SIZE(one)) == 0);
}

/* 0 if two wrapped entities, or a wrapped entity and a listed one, share a key: Python decides. */
static int
keys_are_distinct(Shredding *shredding)
{
    for (int index = 0; index < shredding->count; index++)
        for (int other = index + 1; other < shredding->count; other++)
            if ((shredding->entities[index].single || shredding->entities[other].single) &&
                same_key(shredding->entities[index].key, shredding->entities[other].key))
                return 0;
    return 1;
}

static size_t
shredded_capacity(Shredding *shredding)
{
    size_t capacity = 0;
    for (int index = 0; index < shredding->count; index++)
        capacity += PyBytes_GET_SIZE(shredding->entities[index].key) + 4 +
                    shredding->entities[index].data.length;
    return capacity;
}

/* `,"key":[data,...]` for each key in the order first seen, `,"key":data` for a wrapped one. */
static char *
write_shredded(char *out, int first, Shredding *shredding)
{
    for (int index = 0; index < shredding->count; index++) {
        Entity *entity = &shredding->entities[index];
        if (entity->written)
            continue;
        if (!first)
            *out++ = ',';
        first = 0;
        memcpy(out, PyBytes_AS_STRING(entity->key), PyBytes_GET_SIZE(entity->key));
        out += PyBytes_GET_SIZE(entity->key);
        if (entity->single) {
            memcpy(out, entity->data.at, entity->data.length);
            out += entity->data.length;
            continue;
        }
        char separator = '[';
        for (int other = index; other < shredding->count; other++) {
            Entity *listed = &shredding->entities[other];
            if (listed->written || !same_key(entity->key, listed->key))
                continue;
            listed->written = 1;
            *out++ = separator;
            separator = ',';
            memcpy(out, listed->data.at, listed->data.length);
            out += listed->data.length;
        }
        *out++ = ']';
    }
    return out;
}

static PyObject *
Encoder_encode(Encoder *self, PyObject *line)
{
    Py_ssize_t size;
    const char *text;
    if (PyBytes_Check(line)) {
        /* Bytes as read from a topic, decoded by no one: checked here, an order of magnitude
         * faster than making a str of them. */
        text = PyBytes_AS_STRING(line);
        size = PyBytes_GET_SIZE(line);
        if (!is_utf8((const unsigned char *)text, size))
            Py_RETURN_NONE;
    }
    else if (PyUnicode_Check(line)) {
        text = PyUnicode_AsUTF8AndSize(line, &size);
        if (text == NULL) {
            /* Lone surrogates: not text this path can write. */
            PyErr_Clear();
            Py_RETURN_NONE;
        }
    }
    else {
        PyErr_SetString(PyExc_TypeError, "encode() takes a str or bytes");
        return NULL;
    }
    Py_ssize_t starts[MAX_COLUMNS], lengths[MAX_COLUMNS];
    Py_ssize_t column = 0, start = 0;
    for (;;) {
        const char *tab = memchr(text + start, '\t', size - start);
        Py_ssize_t end = tab == NULL ? size : tab - text;
        if (column == self->columns)
            Py_RETURN_NONE;
        starts[column] = start;
        lengths[column] = end - start;
        column++;
        if (tab == NULL)
            break;
        start = end + 1;
    }
    if (column != self->columns)
        Py_RETURN_NONE;

    /* The self-describing columns first: the space their entities take is known after. */
    Shredding shredding = {.encoder = self, .count = 0};
    int shredded = 1;
    for (column = 0; column < self->columns && shredded; column++)
        if (is_self_describing(self->kinds[column]) && lengths[column] > 0)
            shredded = shred_column(&shredding, column, text + starts[column], lengths[column]);
    if (shredded)
        shredded = keys_are_distinct(&shredding);
    if (!shredded)
        release_entities(&shredding);

    /* Escaping makes at most six bytes of one; the braces and quotes fit in the slack. */
    size_t capacity = (size_t)self->prefixes_length + 6 * (size_t)size +
                      4 * (size_t)self->columns + 2 + shredded_capacity(&shredding);
    for (int index = 0; index < self->added_count; index++)
        capacity += PyBytes_GET_SIZE(self->added[index].prefix) + 6 * (size_t)size + 4;
    char *buffer = PyMem_Malloc(capacity);
    PyObject *members = NULL, *returned = NULL;
    if (buffer == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    char *out = buffer;
    *out++ = '{';
    for (column = 0; column < self->columns; column++) {
        char kind = self->kinds[column];
        if (lengths[column] == 0 || kind == KIND_LEFT_OUT || is_self_describing(kind))
            continue;
        PyObject *prefix = self->prefixes[column];
        Py_ssize_t skip = out == buffer + 1; /* no comma before the first member */
        memcpy(out, PyBytes_AS_STRING(prefix) + skip, PyBytes_GET_SIZE(prefix) - skip);
        out += PyBytes_GET_SIZE(prefix) - skip;
        out = write_value(out, kind, text + starts[column], lengths[column]);
        if (out == NULL)
            goto done;
    }
    out = write_shredded(out, out == buffer + 1, &shredding);
    for (int index = 0; index < self->added_count; index++) {
        Py_ssize_t first = self->added[index].first, second = self->added[index].second;
        if (lengths[first] == 0 || (second >= 0 && lengths[second] == 0))
            continue;
        PyObject *prefix = self->added[index].prefix;
        Py_ssize_t skip = out == buffer + 1;
        memcpy(out, PyBytes_AS_STRING(prefix) + skip, PyBytes_GET_SIZE(prefix) - skip);
        out += PyBytes_GET_SIZE(prefix) - skip;
        if (second < 0) {
            /* Checked already, where the column itself was written. */
            out = write_value(out, self->kinds[first], text + starts[first], lengths[first]);
            continue;
        }
        *out++ = '"';
        out = write_escaped(out, text + starts[first], lengths[first]);
        *out++ = ',';
        out = write_escaped(out, text + starts[second], lengths[second]);
        *out++ = '"';
    }
    *out++ = '}';
    members = PyBytes_FromStringAndSize(buffer, out - buffer);
    if (members == NULL)
        goto done;
    returned = PyTuple_New(self->returned_count);
    if (returned == NULL)
        goto done;
    Py_ssize_t index = 0;
    for (column = 0; column < self->columns; column++) {
        if (!self->returned[column])
            continue;
        /* Shredded columns come back empty: their entities are in `members` already. */
        Py_ssize_t length = shredded && is_self_describing(self->kinds[column]) ? 0 : lengths[column];
        PyObject *value = PyUnicode_DecodeUTF8(text + starts[column], length, "strict");
        if (value == NULL)
            goto done;
        PyTuple_SET_ITEM(returned, index++, value);
    }
    PyMem_Free(buffer);
    release_entities(&shredding);
    return Py_BuildValue("(NN)", members, returned);
done:
    PyMem_Free(buffer);
    release_entities(&shredding);
    Py_XDECREF(members);
    Py_XDECREF(returned);
    if (PyErr_Occurred())
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef Encoder_methods[] = {
    {"encode", (PyCFunction)Encoder_encode, METH_O,
     "encode(line) -> (json, returned) | None\n\n"
     "`line` is a str or its UTF-8 bytes. `json` is the JSON object of the line's columns:\n"
     "every non-empty column but those of kind '-', in order, then the entities of the\n"
     "self-describing columns under their keys, then the added members. `returned` holds\n"
     "the text of the columns named by `returned`, in column order; that of self-describing\n"
     "columns only when they are handed back unshredded (all of them, if any one cannot be\n"
     "shredded here), else ''. None when the line is bytes that are not UTF-8, has another\n"
     "number of columns, or has a value that is not in its kind's usual spelling: a\n"
     "timestamp other than YYYY-MM-DD HH:MM:SS.mmm, an integer with a sign, a leading zero\n"
     "or more than nine digits, a decimal with an exponent or more than 15 digits, a\n"
     "boolean other than 1 or 0."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot Encoder_slots[] = {
    {Py_tp_doc, "Encoder(names, kinds, returned, key_of=None, added=()): writes lines of\n"
                "len(names) tab-separated columns as JSON. `kinds` has one byte per column:\n"
                "s (string), i (integer), d (decimal), b (boolean, 1 or 0), t (timestamp),\n"
                "- (left out), e (self-describing JSON whose data is an array of\n"
                "self-describing entities) or w (self-describing JSON whose data is one\n"
                "self-describing entity); `returned` lists the columns whose text encode()\n"
                "also returns, and must hold the self-describing ones. key_of(column,\n"
                "schema_uri) -> str names the key of a schema's entities; its result is\n"
                "remembered, and if it raises, the columns are handed back. `added` holds\n"
                "members written after the columns: (name, column) repeats a column's value,\n"
                "(name, first, second) writes the string \"<first>,<second>\"; each only when\n"
                "its columns are non-empty."},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_init, Encoder_init},
    {Py_tp_dealloc, Encoder_dealloc},
    {Py_tp_methods, Encoder_methods},
    {0, NULL},
};

static PyType_Spec Encoder_spec = {
    .name = "libs.formats._tsv_json.Encoder",
    .basicsize = sizeof(Encoder),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = Encoder_slots,
};

static int
module_exec(PyObject *module)
{
    for (int byte = 0x20; byte < 256; byte++)
        PLAIN_IN_STRING[byte] = byte != '"' && byte != '\\';
    PyObject *type = PyType_FromSpec(&Encoder_spec);
    if (type == NULL)
        return -1;
    if (PyModule_AddObject(module, "Encoder", type) < 0) {
        Py_DECREF(type);
        return -1;
    }
    return 0;
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
    {0, NULL},
};

static struct PyModuleDef module_definition = {
    PyModuleDef_HEAD_INIT,
    .m_name = "libs.formats._tsv_json",
    .m_doc = "Tab-separated lines written as JSON objects in one pass (see _tsv_json.c).",
    .m_size = 0,
    .m_slots = module_slots,
};

PyMODINIT_FUNC
PyInit__tsv_json(void)
{
    return PyModuleDef_Init(&module_definition);
}
