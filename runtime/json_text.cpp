#include "json_text.hpp"

#include <set>
#include <string>
#include <vector>

namespace writ::runtime {
namespace {

// A number token as the message shows it: whole when short, else its start
// and its length (a 5,000-digit number would drown the message).
std::string shown_number(const std::string& token) {
  constexpr size_t kShown = 24;
  if (token.size() <= kShown) return token;
  return token.substr(0, kShown) + "… (" + std::to_string(token.size()) + " characters)";
}

// nlohmann's messages read "[json.exception.parse_error.101] parse error at
// line 1, column 2: syntax error while parsing value - invalid literal; ...":
// keep what follows the last " - " or ": " of the prefix.
std::string reason_of(const std::string& what) {
  size_t at = what.find(" - ");
  if (at != std::string::npos) return what.substr(at + 3);
  at = what.rfind(": ");
  return at == std::string::npos ? what : what.substr(at + 2);
}

// The first byte at which `text` opens an array or object deeper than
// kMaxJsonDepth, outside strings; npos when none does. A scan, not a parse:
// the parser itself recurses per level.
size_t too_deep_at(std::string_view text) {
  size_t depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::string_view::npos;
}

// The parser's callback, for keys given twice: the keys seen in each open
// object, and where each open array or object is, for the message.
class KeyCheck {
 public:
  struct Twice {
    std::string key, where;
    size_t number;
  };
  // Throws Twice at a key the object already has; `number` counts the keys
  // read before it (key_at finds it in the text).
  bool operator()(int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    switch (event) {
      case E::object_start:
      case E::array_start:
        open_.push_back({event == E::array_start, 0, {}, {}});
        break;
      case E::key: {
        Level& top = open_.back();
        top.key = parsed.get<std::string>();
        if (!top.keys.insert(top.key).second) throw Twice{top.key, where(), keys_};
        ++keys_;
        break;
      }
      case E::object_end:
      case E::array_end:
        open_.pop_back();
        next();
        break;
      case E::value:
        next();
        break;
    }
    return true;
  }

 private:
  struct Level {
    bool array;
    size_t index;     // an array's element being read
    std::string key;  // an object's last key
    std::set<std::string> keys;
  };
  void next() {
    if (!open_.empty() && open_.back().array) ++open_.back().index;
  }
  // The innermost open object, as a path from the top.
  std::string where() const {
    if (open_.size() == 1) return "the top object";
    std::string s;
    for (size_t i = 0; i + 1 < open_.size(); ++i)
      s += open_[i].array ? "[" + std::to_string(open_[i].index) + "]"
                          : (s.empty() ? "" : ".") + open_[i].key;
    return s;
  }
  std::vector<Level> open_;
  size_t keys_ = 0;
};

// The byte at which the key numbered `number` (from 0, in the order of the
// text) begins: a string followed by ':' outside strings. The text is valid
// JSON up to it, as the parser read it so far.
size_t key_at(std::string_view text, size_t number) {
  size_t seen = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '"') continue;
    const size_t begin = i;
    for (++i; i < text.size() && text[i] != '"'; ++i)
      if (text[i] == '\\') ++i;
    size_t j = i + 1;
    while (j < text.size() &&
           (text[j] == ' ' || text[j] == '\t' || text[j] == '\n' || text[j] == '\r'))
      ++j;
    if (j < text.size() && text[j] == ':' && seen++ == number) return begin;
  }
  return 0;
}

}  // namespace

Result<nlohmann::json> parse_json_text(std::string_view text) {
  if (const size_t at = too_deep_at(text); at != std::string_view::npos)
    return vm::error_at(at, "not valid JSON here: nested deeper than " +
                                std::to_string(kMaxJsonDepth) + " levels at byte " +
                                std::to_string(at));
  try {
    return nlohmann::json::parse(text, KeyCheck());
  } catch (const KeyCheck::Twice& t) {
    const size_t at = key_at(text, t.number);
    return vm::error_at(at, "not valid JSON here: the key \"" + t.key + "\" appears twice in " +
                                t.where + " at byte " + std::to_string(at));
  } catch (const nlohmann::json::parse_error& e) {
    const size_t at = e.byte == 0 ? 0 : e.byte - 1;
    return vm::error_at(
        at, "not valid JSON: " + reason_of(e.what()) + " at byte " + std::to_string(at));
  } catch (const nlohmann::json::out_of_range& e) {
    // 406: a number that overflows a double (and so every number type).
    std::string what = e.what();
    const std::string marker = "number overflow parsing '";
    const size_t from = what.find(marker);
    if (e.id == 406 && from != std::string::npos) {
      const size_t begin = from + marker.size();
      const size_t end = what.find('\'', begin);
      const std::string token =
          what.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
      return vm::error_at(0, "the number " + shown_number(token) +
                                 " is valid JSON but out of range: numbers must fit a 64-bit "
                                 "integer or a double; write large amounts as decimal strings");
    }
    return vm::error_at(0, "JSON value out of range: " + reason_of(what));
  } catch (const std::exception& e) {
    return vm::error_at(0, std::string("not valid JSON: ") + e.what());
  }
}

}  // namespace writ::runtime
