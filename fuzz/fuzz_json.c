/* fuzz_json.c: libFuzzer target for the JSON run config (strict cJSON parsing, every
 * key's type and range, hooks); an accepted config must read back from its own
 * effective-config dump to the same hash. */
#include <string.h>

#include "fuzz_common.h"
#include "train/train.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    static train_config c, d;
    lir_error err;
    config_defaults(&c);
    if (config_apply_json(&c, text, "fuzz.json", &err) == 0 && config_check(&c, &err) == 0) {
        char *js = config_to_json(&c);
        config_defaults(&d);
        if (config_apply_json(&d, js, "dump", &err) || config_hash(&c) != config_hash(&d))
            abort();
        free(js);
    }
    free(text);
    return 0;
}
