// The JIT's IR passes: LLVM's pipeline, chosen by measurement (docs/jit.md,
// "The pipeline"), with a pass of Writ's own; and the cut of long blocks
// for large modules.
#include <llvm/Analysis/ValueTracking.h>
#include <llvm/IR/Instructions.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Transforms/IPO/AlwaysInliner.h>
#include <llvm/Transforms/InstCombine/InstCombine.h>
#include <llvm/Transforms/Scalar/JumpThreading.h>
#include <llvm/Transforms/Scalar/SimplifyCFG.h>
#include <llvm/Transforms/Utils/Mem2Reg.h>

#include <algorithm>
#include <iterator>
#include <vector>

#include "jit_lower.hpp"

namespace writ::vm::jit {

namespace {

// Splits each phi of a function's {gas, status|pc, result} returns, which
// inlining leaves where a callee's returns meet, into one phi per field, so
// that a field known on an edge (a return's Ok status) is a constant there
// and the caller's test of it can be threaded away.
struct SplitReturnPhis : llvm::PassInfoMixin<SplitReturnPhis> {
  llvm::PreservedAnalyses run(llvm::Function& f, llvm::FunctionAnalysisManager&) {
    std::vector<llvm::PHINode*> phis;
    for (llvm::BasicBlock& b : f)
      for (llvm::PHINode& p : b.phis())
        if (auto* st = llvm::dyn_cast<llvm::StructType>(p.getType()))
          if (st->getNumElements() <= 4 && !p.use_empty()) phis.push_back(&p);
    if (phis.empty()) return llvm::PreservedAnalyses::all();
    for (llvm::PHINode* p : phis) {
      auto* st = llvm::cast<llvm::StructType>(p->getType());
      std::vector<llvm::PHINode*> fields;
      for (unsigned i = 0; i < st->getNumElements(); ++i) {
        llvm::PHINode* q = llvm::PHINode::Create(st->getElementType(i), p->getNumIncomingValues(),
                                                 p->getName() + ".f" + llvm::Twine(i), p);
        for (unsigned k = 0; k < p->getNumIncomingValues(); ++k) {
          llvm::Value* in = p->getIncomingValue(k);
          llvm::BasicBlock* from = p->getIncomingBlock(k);
          llvm::Value* v = llvm::FindInsertedValue(in, {i});
          if (v == nullptr) v = llvm::ExtractValueInst::Create(in, {i}, "", from->getTerminator());
          q->addIncoming(v, from);
        }
        fields.push_back(q);
      }
      for (llvm::Use& u : llvm::make_early_inc_range(p->uses()))
        if (auto* ev = llvm::dyn_cast<llvm::ExtractValueInst>(u.getUser()))
          if (ev->getNumIndices() == 1) {
            ev->replaceAllUsesWith(fields[ev->getIndices()[0]]);
            ev->eraseFromParent();
          }
      if (!p->use_empty()) {
        llvm::Value* agg = llvm::UndefValue::get(st);
        llvm::Instruction* at = &*p->getParent()->getFirstInsertionPt();
        for (unsigned i = 0; i < fields.size(); ++i)
          agg = llvm::InsertValueInst::Create(agg, fields[i], {i}, "", at);
        p->replaceAllUsesWith(agg);
      }
      p->eraseFromParent();
    }
    return llvm::PreservedAnalyses::none();
  }
};
}  // namespace

void split_long_blocks(llvm::Module& m, size_t most) {
  for (llvm::Function& f : m) {
    std::vector<llvm::BasicBlock*> blocks;
    for (llvm::BasicBlock& b : f) blocks.push_back(&b);
    for (llvm::BasicBlock* b : blocks) {
      while (b->size() > most + 1) {
        auto at = b->getFirstInsertionPt();
        for (size_t k = 0; k < most && std::next(at) != b->end(); ++k) ++at;
        if (std::next(at) == b->end()) break;
        b = b->splitBasicBlock(at);
      }
    }
  }
}

void optimize(llvm::Module& m, unsigned level, bool large) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder pb;
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  if (large) {
    llvm::ModulePassManager mpm;
    mpm.addPass(llvm::AlwaysInlinerPass());
    llvm::FunctionPassManager fpm;
    fpm.addPass(llvm::PromotePass());
    mpm.addPass(llvm::createModuleToFunctionPassAdaptor(std::move(fpm)));
    mpm.run(m, mam);
    return;
  }
  pb.registerScalarOptimizerLateEPCallback(
      [](llvm::FunctionPassManager& fpm, llvm::OptimizationLevel) {
        fpm.addPass(SplitReturnPhis());
        fpm.addPass(llvm::InstCombinePass());
        fpm.addPass(llvm::JumpThreadingPass());
        fpm.addPass(llvm::SimplifyCFGPass());
      });
  const llvm::OptimizationLevel levels[] = {
      llvm::OptimizationLevel::O1, llvm::OptimizationLevel::O1, llvm::OptimizationLevel::O2,
      llvm::OptimizationLevel::O3};
  llvm::ModulePassManager mpm = pb.buildPerModuleDefaultPipeline(levels[std::min(level, 3u)]);
  mpm.run(m, mam);
}

}  // namespace writ::vm::jit
