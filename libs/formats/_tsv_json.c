/* The good sink's hot path: a tab-separated line turned into the members of a JSON object in one
 * pass over its bytes, for the columns whose JSON is their own text (strings, escaped), that text
 * checked (integers, decimals, booleans) or that text barely changed (timestamps).
 *
 * Python made a str for each of the 131 columns, a dict for the event and then walked the dict to
 * encode it: about 20 us per event, two thirds of the sink's CPU. This writes the same JSON from
 * the line in about a microsecond. It knows nothing of Snowplow: `libs/formats/enriched.py` gives
 * it the column names and kinds, handles the JSON columns it hands back, and takes the general
 * path for every line this declines (see `Encoder.encode`).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

/* Column kinds, as the bytes passed to Encoder(). */
#define KIND_STRING 's'
#define KIND_INTEGER 'i'
#define KIND_DECIMAL 'd'
#define KIND_BOOLEAN 'b'
#define KIND_TIMESTAMP 't'
#define KIND_LEFT_OUT '-'

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

typedef struct {
    PyObject_HEAD
    Py_ssize_t columns;
    char kinds[MAX_COLUMNS];
    char returned[MAX_COLUMNS];
    Py_ssize_t returned_count;
    /* Per column, `,"name":` (the comma left out before the first member). */
    PyObject *prefixes[MAX_COLUMNS];
    Py_ssize_t prefixes_length;
} Encoder;

static int
Encoder_init(Encoder *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"names", "kinds", "returned", NULL};
    PyObject *names, *returned;
    const char *kinds;
    Py_ssize_t kinds_length;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!y#O!", keywords, &PyTuple_Type, &names,
                                     &kinds, &kinds_length, &PyTuple_Type, &returned))
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
        if (!strchr("sidbt-", kind) || kind == '\0') {
            PyErr_Format(PyExc_ValueError, "unknown column kind %c", kind);
            return -1;
        }
        self->kinds[column] = kind;
        self->returned[column] = 0;
        PyObject *name = PyTuple_GET_ITEM(names, column);
        if (!PyUnicode_Check(name)) {
            PyErr_SetString(PyExc_TypeError, "column names must be str");
            return -1;
        }
        /* Names are plain identifiers: written as they are, with no escaping. */
        PyObject *prefix = PyUnicode_FromFormat(",\"%U\":", name);
        if (prefix == NULL)
            return -1;
        PyObject *encoded = PyUnicode_AsUTF8String(prefix);
        Py_DECREF(prefix);
        if (encoded == NULL)
            return -1;
        Py_XSETREF(self->prefixes[column], encoded);
        self->prefixes_length += PyBytes_GET_SIZE(encoded);
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
    for (Py_ssize_t column = 0; column < MAX_COLUMNS; column++)
        Py_CLEAR(self->prefixes[column]);
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

/* Writes `text` as the inside of a JSON string; returns the end of what was written. The text is
 * valid UTF-8 (it comes from a str), so bytes from 0x80 are copied as they are. */
static char *
write_escaped(char *out, const char *text, Py_ssize_t length)
{
    for (Py_ssize_t at = 0; at < length; at++) {
        unsigned char byte = (unsigned char)text[at];
        if (byte == '"' || byte == '\\') {
            *out++ = '\\';
            *out++ = (char)byte;
        }
        else if (byte < 0x20) {
            memcpy(out, "\\u00", 4);
            out[4] = HEX[byte >> 4];
            out[5] = HEX[byte & 0xf];
            out += 6;
        }
        else
            *out++ = (char)byte;
    }
    return out;
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

static PyObject *
Encoder_encode(Encoder *self, PyObject *line)
{
    if (!PyUnicode_Check(line)) {
        PyErr_SetString(PyExc_TypeError, "encode() takes a str");
        return NULL;
    }
    Py_ssize_t size;
    const char *text = PyUnicode_AsUTF8AndSize(line, &size);
    if (text == NULL) {
        /* Lone surrogates: not text this path can write. */
        PyErr_Clear();
        Py_RETURN_NONE;
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

    /* Escaping makes at most six bytes of one; the braces and quotes fit in the slack. */
    size_t capacity = (size_t)self->prefixes_length + 6 * (size_t)size + 4 * (size_t)column + 2;
    char *buffer = PyMem_Malloc(capacity);
    if (buffer == NULL)
        return PyErr_NoMemory();
    char *out = buffer;
    *out++ = '{';
    for (column = 0; column < self->columns; column++) {
        char kind = self->kinds[column];
        if (lengths[column] == 0 || kind == KIND_LEFT_OUT)
            continue;
        PyObject *prefix = self->prefixes[column];
        Py_ssize_t skip = out == buffer + 1; /* no comma before the first member */
        memcpy(out, PyBytes_AS_STRING(prefix) + skip, PyBytes_GET_SIZE(prefix) - skip);
        out += PyBytes_GET_SIZE(prefix) - skip;
        out = write_value(out, kind, text + starts[column], lengths[column]);
        if (out == NULL) {
            PyMem_Free(buffer);
            Py_RETURN_NONE;
        }
    }
    PyObject *members = PyBytes_FromStringAndSize(buffer, out - buffer);
    PyMem_Free(buffer);
    if (members == NULL)
        return NULL;
    PyObject *returned = PyTuple_New(self->returned_count);
    if (returned == NULL) {
        Py_DECREF(members);
        return NULL;
    }
    Py_ssize_t index = 0;
    for (column = 0; column < self->columns; column++) {
        if (!self->returned[column])
            continue;
        PyObject *value = PyUnicode_DecodeUTF8(text + starts[column], lengths[column], "strict");
        if (value == NULL) {
            Py_DECREF(members);
            Py_DECREF(returned);
            return NULL;
        }
        PyTuple_SET_ITEM(returned, index++, value);
    }
    return Py_BuildValue("(NN)", members, returned);
}

static PyMethodDef Encoder_methods[] = {
    {"encode", (PyCFunction)Encoder_encode, METH_O,
     "encode(line) -> (members, returned) | None\n\n"
     "`members` is the JSON object of the line's columns without its closing brace: every\n"
     "non-empty column but those of kind '-', in order. `returned` holds the text of the\n"
     "columns named by `returned`, in column order. None when the line has another number of\n"
     "columns, or a value that is not in its kind's usual spelling: a timestamp other than\n"
     "YYYY-MM-DD HH:MM:SS.mmm, an integer with a sign, a leading zero or more than nine\n"
     "digits, a decimal with an exponent or more than 15 digits, a boolean other than 1\n"
     "or 0."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot Encoder_slots[] = {
    {Py_tp_doc, "Encoder(names, kinds, returned): writes lines of len(names) tab-separated\n"
                "columns as JSON. `kinds` has one byte per column: s (string), i (integer),\n"
                "d (decimal), b (boolean, 1 or 0), t (timestamp) or - (left out);\n"
                "`returned` lists the columns whose text encode() also returns."},
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
