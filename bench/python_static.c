/*
 * python_static.c - a plain python3 linked against the same static libpython
 * that the kiln launcher embeds. `make bench` runs it beside kiln so that
 * what kiln's importer buys is measured on the same interpreter build.
 */
#include <Python.h>

int main(int argc, char **argv)
{
    return Py_BytesMain(argc, argv);
}
