// A BlobStore that forwards to another and lets a test watch its appenders' opens and syncs,
// the partials created (and for which file id) and removed, make their writes fail (the files
// layer's tests of what a store failure keeps), and say that appenders are worth keeping
// between PATCHes, as an object store does.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "store/blob_store.h"

namespace satload::files::testing {

class InstrumentedBlobStore final : public store::BlobStore {
public:
    explicit InstrumentedBlobStore(store::BlobStore& inner) : m_inner(inner) {}

    // Syncs made by all appenders so far, and appenders opened.
    [[nodiscard]] int syncs() const { return m_syncs; }
    [[nodiscard]] int opens() const { return m_opens; }
    // What appenders_worth_keeping answers (false, as the local store, unless set).
    void set_worth_keeping(bool worth) { m_worth_keeping = worth; }
    [[nodiscard]] bool appenders_worth_keeping() const override { return m_worth_keeping; }
    // Every appender's writes after the first `n` fail (an I/O error, nothing written).
    void fail_writes_after(int n) { m_writes_left = n; }
    // The partials created so far: (upload id, file id), the file id empty for create_partial.
    [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& creations() const {
        return m_creations;
    }
    // The cut-offs of the sweeps asked for so far.
    [[nodiscard]] const std::vector<std::chrono::system_clock::time_point>& sweeps() const {
        return m_sweeps;
    }
    // Called with the upload id before each remove_partial is passed on.
    void on_remove_partial(std::function<void(std::string_view)> hook) {
        m_on_remove = std::move(hook);
    }

    store::StoreResult<void> create_partial(std::string_view id) override {
        m_creations.emplace_back(id, "");
        return m_inner.create_partial(id);
    }
    store::StoreResult<void> create_partial_for(std::string_view id,
                                                std::string_view file_id) override {
        m_creations.emplace_back(id, file_id);
        return m_inner.create_partial_for(id, file_id);
    }
    store::StoreResult<std::unique_ptr<store::BlobAppender>> open_append(std::string_view id,
                                                                         std::uint64_t durable) override {
        auto inner = m_inner.open_append(id, durable);
        if (!inner) return fail(inner.error());
        ++m_opens;
        return std::unique_ptr<store::BlobAppender>(std::make_unique<Appender>(std::move(*inner), *this));
    }
    store::StoreResult<std::unique_ptr<store::BlobReader>> open_partial(std::string_view id) override {
        return m_inner.open_partial(id);
    }
    store::StoreResult<void> remove_partial(std::string_view id) override {
        if (m_on_remove) m_on_remove(id);
        return m_inner.remove_partial(id);
    }
    store::StoreResult<store::BlobDigest> commit_partial(std::string_view id, std::string_view file_id) override {
        return m_inner.commit_partial(id, file_id);
    }
    store::StoreResult<std::unique_ptr<store::BlobReader>> open_blob(std::string_view file_id) override {
        return m_inner.open_blob(file_id);
    }
    store::StoreResult<void> remove_blob(std::string_view file_id) override { return m_inner.remove_blob(file_id); }
    store::StoreResult<store::BlobDigest> digest_blob(std::string_view file_id) override {
        return m_inner.digest_blob(file_id);
    }
    store::StoreResult<std::size_t> sweep_abandoned(
        std::chrono::system_clock::time_point before) override {
        m_sweeps.push_back(before);
        return m_inner.sweep_abandoned(before);
    }

private:
    class Appender final : public store::BlobAppender {
    public:
        Appender(std::unique_ptr<store::BlobAppender> inner, InstrumentedBlobStore& store)
            : m_inner(std::move(inner)), m_store(store) {}
        store::StoreResult<void> write(std::span<const std::uint8_t> data) override {
            if (m_store.m_writes_left == 0) {
                return fail(store::StoreFailure{store::StoreError::io, "injected write failure"});
            }
            if (m_store.m_writes_left > 0) --m_store.m_writes_left;
            return m_inner->write(data);
        }
        store::StoreResult<std::uint64_t> sync() override {
            ++m_store.m_syncs;
            return m_inner->sync();
        }
        [[nodiscard]] std::uint64_t size() const override { return m_inner->size(); }

    private:
        std::unique_ptr<store::BlobAppender> m_inner;
        InstrumentedBlobStore& m_store;
    };

    store::BlobStore& m_inner;
    int m_syncs = 0;
    int m_opens = 0;
    bool m_worth_keeping = false;
    int m_writes_left = -1;  // -1: no write fails
    std::vector<std::pair<std::string, std::string>> m_creations;
    std::function<void(std::string_view)> m_on_remove;
    std::vector<std::chrono::system_clock::time_point> m_sweeps;
};

}  // namespace satload::files::testing
