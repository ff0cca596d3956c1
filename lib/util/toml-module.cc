// gctk-toml.so: TOML <-> JSON through tomlplusplus, for lib/toml.c.
// The two entry points never let a C++ exception out: every failure comes
// back as a message the caller owns (malloc'ed).
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <jansson.h>
#include <sstream>
#include <string>
#include <toml++/toml.h>

#include "toml.h"

namespace
{

// A C++ exception that carries a message for the C side.
struct convert_error {
    std::string msg;
};

std::string quoted_path(const std::string &path)
{
    return path.empty() ? std::string("the document") : "`" + path + "`";
}

std::string child_path(const std::string &path, const std::string &key)
{
    return path.empty() ? key : path + "." + key;
}

json_t *checked(json_t *j)
{
    if (j == nullptr)
        throw std::bad_alloc();
    return j;
}

template <typename T> json_t *datetime_object(const T &value)
{
    std::ostringstream text;
    text << value;
    json_t *obj = checked(json_object());
    json_object_set_new(obj, GCTK_TOML_DATETIME_KEY, checked(json_string(text.str().c_str())));
    return obj;
}

json_t *to_json(const toml::node &node, const std::string &path);

json_t *table_to_json(const toml::table &table, const std::string &path)
{
    json_t *obj = checked(json_object());
    for (auto &&[key, value] : table) {
        std::string k(key.str());
        json_t *child;
        try {
            child = to_json(value, child_path(path, k));
        } catch (...) {
            json_decref(obj);
            throw;
        }
        if (json_object_setn_new(obj, k.data(), k.size(), child) != 0) {
            json_decref(obj);
            throw convert_error{"key " + quoted_path(child_path(path, k)) +
                                " is not valid UTF-8 or holds a NUL"};
        }
    }
    return obj;
}

json_t *to_json(const toml::node &node, const std::string &path)
{
    switch (node.type()) {
    case toml::node_type::table:
        return table_to_json(*node.as_table(), path);
    case toml::node_type::array: {
        json_t *arr = checked(json_array());
        size_t i = 0;
        for (const toml::node &item : *node.as_array()) {
            json_t *child;
            try {
                child = to_json(item, path + "[" + std::to_string(i++) + "]");
            } catch (...) {
                json_decref(arr);
                throw;
            }
            json_array_append_new(arr, child);
        }
        return arr;
    }
    case toml::node_type::string: {
        const std::string &s = node.as_string()->get();
        json_t *j = json_stringn(s.data(), s.size());
        if (j == nullptr)
            throw convert_error{"the string at " + quoted_path(path) + " holds a NUL"};
        return j;
    }
    case toml::node_type::integer:
        return checked(json_integer(node.as_integer()->get()));
    case toml::node_type::floating_point: {
        double d = node.as_floating_point()->get();
        if (!std::isfinite(d))
            throw convert_error{"the float at " + quoted_path(path) +
                                " is nan or inf, which has no JSON form"};
        return checked(json_real(d));
    }
    case toml::node_type::boolean:
        return json_boolean(node.as_boolean()->get());
    case toml::node_type::date:
        return datetime_object(node.as_date()->get());
    case toml::node_type::time:
        return datetime_object(node.as_time()->get());
    case toml::node_type::date_time:
        return datetime_object(node.as_date_time()->get());
    default:
        throw convert_error{"the value at " + quoted_path(path) + " has no JSON form"};
    }
}

// A date or time written back as TOML: parsed from its own text, so that
// exactly the TOML grammar decides what is valid.
void insert_datetime(toml::table &into, const std::string &key, const char *text,
                     const std::string &path)
{
    toml::table holder;
    try {
        holder = toml::parse(std::string("v = ") + text);
    } catch (const toml::parse_error &) {
        throw convert_error{"`" + std::string(text) + "` at " + quoted_path(path) +
                            " is not a TOML date or time"};
    }
    toml::node *v = holder.get("v");
    if (v == nullptr || !(v->is_date() || v->is_time() || v->is_date_time()))
        throw convert_error{"`" + std::string(text) + "` at " + quoted_path(path) +
                            " is not a TOML date or time"};
    into.insert_or_assign(key, std::move(*v));
}

const char *datetime_text(const json_t *obj)
{
    if (!json_is_object(obj) || json_object_size(obj) != 1)
        return nullptr;
    return json_string_value(json_object_get(obj, GCTK_TOML_DATETIME_KEY));
}

toml::table to_table(const json_t *obj, const std::string &path);
toml::array to_array(const json_t *arr, const std::string &path);

template <typename Container, typename Adder>
void add_value(const json_t *value, const std::string &path, Adder add)
{
    switch (json_typeof(value)) {
    case JSON_OBJECT:
        add(to_table(value, path));
        break;
    case JSON_ARRAY:
        add(to_array(value, path));
        break;
    case JSON_STRING:
        add(std::string(json_string_value(value), json_string_length(value)));
        break;
    case JSON_INTEGER:
        add(static_cast<int64_t>(json_integer_value(value)));
        break;
    case JSON_REAL:
        add(json_real_value(value));
        break;
    case JSON_TRUE:
        add(true);
        break;
    case JSON_FALSE:
        add(false);
        break;
    case JSON_NULL:
        throw convert_error{"the value at " + quoted_path(path) +
                            " is null, which TOML cannot hold"};
    }
}

toml::table to_table(const json_t *obj, const std::string &path)
{
    toml::table table;
    const char *key;
    size_t key_len;
    json_t *value;
    json_object_keylen_foreach(const_cast<json_t *>(obj), key, key_len, value)
    {
        std::string k(key, key_len);
        std::string p = child_path(path, k);
        if (const char *dt = datetime_text(value)) {
            insert_datetime(table, k, dt, p);
            continue;
        }
        add_value<toml::table>(
            value, p, [&](auto &&v) { table.insert_or_assign(k, std::forward<decltype(v)>(v)); });
    }
    return table;
}

toml::array to_array(const json_t *arr, const std::string &path)
{
    toml::array out;
    size_t i;
    json_t *value;
    json_array_foreach(arr, i, value)
    {
        std::string p = path + "[" + std::to_string(i) + "]";
        if (const char *dt = datetime_text(value)) {
            toml::table holder;
            insert_datetime(holder, "v", dt, p);
            out.push_back(std::move(*holder.get("v")));
            continue;
        }
        add_value<toml::array>(value, p,
                               [&](auto &&v) { out.push_back(std::forward<decltype(v)>(v)); });
    }
    return out;
}

char *dup_message(const std::string &s)
{
    char *p = strdup(s.c_str());
    if (p == nullptr)
        abort();
    return p;
}

} // namespace

extern "C" {

// Returns 0 and a new object in *out, or -1 and a message in *msg.
__attribute__((visibility("default"))) int gctk_toml_module_parse(const char *text, size_t len,
                                                                  json_t **out, char **msg)
{
    try {
        toml::table table = toml::parse(std::string_view(text, len));
        *out = table_to_json(table, "");
        return 0;
    } catch (const toml::parse_error &e) {
        const toml::source_region &where = e.source();
        std::ostringstream m;
        m << "line " << where.begin.line << ", column " << where.begin.column << ": "
          << e.description();
        *msg = dup_message(m.str());
    } catch (const convert_error &e) {
        *msg = dup_message(e.msg);
    } catch (const std::bad_alloc &) {
        abort();
    } catch (...) {
        *msg = dup_message("the TOML library failed");
    }
    return -1;
}

// Returns 0 and the TOML text in *out (malloc'ed), or -1 and a message in *msg.
__attribute__((visibility("default"))) int gctk_toml_module_format(const json_t *doc, char **out,
                                                                   char **msg)
{
    try {
        if (!json_is_object(doc))
            throw convert_error{"a TOML document must be a table"};
        std::ostringstream text;
        text << toml::toml_formatter(to_table(doc, ""));
        text << '\n';
        *out = dup_message(text.str());
        return 0;
    } catch (const convert_error &e) {
        *msg = dup_message(e.msg);
    } catch (const std::bad_alloc &) {
        abort();
    } catch (...) {
        *msg = dup_message("the TOML library failed");
    }
    return -1;
}
}
